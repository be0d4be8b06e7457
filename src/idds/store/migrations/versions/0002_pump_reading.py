"""The pump's readings: one row per interrogation at a sync (reservoir, battery, alarms, the
therapy in force), for the dashboard and the refill plan.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: A primary key: INTEGER on SQLite (autoincrement), BIGINT on PostgreSQL.
KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pump_reading",
        sa.Column("id", KEY, nullable=False),
        sa.Column("implant_id", KEY, nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_by", sa.String(length=64), nullable=False),
        sa.Column("pump_time", sa.String(length=40), nullable=False),
        sa.Column("drug", sa.String(length=64), nullable=True),
        sa.Column("concentration_num", sa.BigInteger(), nullable=True),
        sa.Column("concentration_den", sa.BigInteger(), nullable=True),
        sa.Column("therapy", sa.Text(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("infusing", sa.Boolean(), nullable=False),
        sa.Column("reservoir_nl", sa.BigInteger(), nullable=False),
        sa.Column("capacity_nl", sa.BigInteger(), nullable=False),
        sa.Column("low_alarm_nl", sa.BigInteger(), nullable=False),
        sa.Column("refill_due_on", sa.Date(), nullable=True),
        sa.Column("battery", sa.String(length=40), nullable=False),
        sa.Column("battery_eri_days", sa.BigInteger(), nullable=False),
        sa.Column("alarms", sa.Text(), nullable=False),
        sa.Column("log_length", sa.BigInteger(), nullable=False),
        sa.Column("log_head", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implant_id"], ["implant.id"], name=op.f("fk_pump_reading_implant_id_implant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pump_reading")),
    )


def downgrade() -> None:
    op.drop_table("pump_reading")
