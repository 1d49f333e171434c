"""EDI: trading partners and the EDI document log/outbox (received interchanges, 997/TA1/855,
CONTRL/ORDRSP written back).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "trading_partners",
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("standard", sa.String(length=16), nullable=False),
        sa.Column("sender_qualifier", sa.String(length=4), nullable=False),
        sa.Column("sender_id", sa.String(length=35), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("part_numbers", sa.JSON(), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("order_ack", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_trading_partners")),
        sa.UniqueConstraint(
            "standard",
            "sender_qualifier",
            "sender_id",
            name=op.f("uq_trading_partners_standard"),
        ),
    )
    op.create_table(
        "edi_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("standard", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("interchange_control", sa.String(length=35), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_edi_messages")),
    )
    with op.batch_alter_table("edi_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_edi_messages_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_edi_messages_partner_id"), ["partner_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("edi_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edi_messages_partner_id"))
        batch_op.drop_index(batch_op.f("ix_edi_messages_customer_id"))
    op.drop_table("edi_messages")
    op.drop_table("trading_partners")
