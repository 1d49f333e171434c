"""Fill-rate protection: supply protected per product for a customer segment
(``allocation_protection``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "allocation_protection",
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("product_id", sa.String(length=64), nullable=False),
        sa.Column("customer_segment", sa.String(length=64), nullable=False),
        sa.Column("protected_quantity", sa.Float(), nullable=False),
        sa.Column("horizon_start", sa.Date(), nullable=False),
        sa.Column("horizon_end", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["policy_versions.version_id"],
            name="fk_allocation_protection_version_id_policy_versions",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "product_id", "customer_segment", name="pk_allocation_protection"
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("allocation_protection")
