"""Order promising: supply, the allocation plan per policy version, promises (reservations).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.String(64)
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "supply",
        sa.Column("product_id", ID, nullable=False),
        sa.Column("location_id", ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("product_id", "location_id", "date", "kind", name="pk_supply"),
    )
    op.create_table(
        "allocation_shares",
        sa.Column("version_id", ID, nullable=False),
        sa.Column("product_segment", ID, nullable=False),
        sa.Column("customer_segment", ID, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["policy_versions.version_id"],
            name="fk_allocation_shares_version_id_policy_versions",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "product_segment", "customer_segment", name="pk_allocation_shares"
        ),
    )
    op.create_table(
        "allocation_products",
        sa.Column("version_id", ID, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("product_segment", ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["policy_versions.version_id"],
            name="fk_allocation_products_version_id_policy_versions",
        ),
        sa.PrimaryKeyConstraint("version_id", "product_id", name="pk_allocation_products"),
    )
    op.create_table(
        "promises",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("product_id", ID, nullable=False),
        sa.Column("customer_segment", ID, nullable=True),
        sa.Column("allocation_segment", ID, nullable=True),
        sa.Column("requested_date", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("confirmed_quantity", sa.Float(), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("backorder_quantity", sa.Float(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_promises_order_id_orders"),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_promises"),
    )
    op.create_index("ix_promises_product_status", "promises", ["product_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_promises_product_status", table_name="promises")
    op.drop_table("promises")
    op.drop_table("allocation_products")
    op.drop_table("allocation_shares")
    op.drop_table("supply")
