"""The HTTP gateway: sessions shared by every gateway process, and what each agent key may run.

Revision ID: 0008_gateway
Revises: 0007_break_glass_scope
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_gateway"
down_revision = "0007_break_glass_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_gateway_sessions",
        sa.Column("id", sa.String(128), primary_key=True, autoincrement=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(256), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("owner", sa.String(256), nullable=False),
        sa.Column("opened_at", sa.Float, nullable=False),
        sa.Column("closed_at", sa.Float, nullable=True),
        sa.Column("closed_by", sa.String(256), nullable=True),
    )
    op.create_index(
        "ix_proctor_gateway_sessions_owner", "proctor_gateway_sessions", ["owner", "opened_at"]
    )
    op.create_table(
        "proctor_agent_grants",
        sa.Column("principal", sa.String(256), primary_key=True, autoincrement=False),
        sa.Column("agents", sa.Text, nullable=False),
        sa.Column("tenants", sa.Text, nullable=False),
        sa.Column("granted_by", sa.String(256), nullable=False),
        sa.Column("granted_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("proctor_agent_grants")
    op.drop_index("ix_proctor_gateway_sessions_owner", "proctor_gateway_sessions")
    op.drop_table("proctor_gateway_sessions")
