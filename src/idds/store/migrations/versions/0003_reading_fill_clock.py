"""The pump's readings keep what the pump pumped since its last fill (whole nL) and the
calendar moment of the pump's time 0, so an export can send the volume and dose delivered
and date the log exactly. Both nullable: rows stored before have neither.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # batch mode: SQLite cannot drop a column in place (the downgrade); a plain ALTER on
    # PostgreSQL.
    with op.batch_alter_table("pump_reading") as table:
        table.add_column(sa.Column("pumped_nl", sa.BigInteger(), nullable=True))
        table.add_column(sa.Column("clock_epoch", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pump_reading") as table:
        table.drop_column("clock_epoch")
        table.drop_column("pumped_nl")
