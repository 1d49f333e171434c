"""The location an order line asked for (``order_lines.location_id``), kept with the line so
an approved or amended exception is promised from it as ``POST /orders`` would have.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("order_lines") as batch:
        batch.add_column(sa.Column("location_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("order_lines") as batch:
        batch.drop_column("location_id")
