"""Monitoring: baselines per agent, unfolded minute counts, and the containment cap.

Revision ID: 0006_monitor
Revises: 0005_memory
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_monitor"
down_revision = "0005_memory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_monitor_buckets",
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("series", sa.String(200), primary_key=True),
        sa.Column("minute", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_table(
        "proctor_monitor_state",
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("closed", sa.BigInteger, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    with op.batch_alter_table("proctor_agent_controls") as batch:
        batch.add_column(sa.Column("max_autonomy", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("proctor_agent_controls") as batch:
        batch.drop_column("max_autonomy")
    op.drop_table("proctor_monitor_state")
    op.drop_table("proctor_monitor_buckets")
