"""MCP tool pins: the definition of each downstream tool an operator approved, and the last
one listed.

Revision ID: 0010_mcp_pins
Revises: 0009_budgets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_mcp_pins"
down_revision = "0009_budgets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_mcp_tool_pins",
        sa.Column("server", sa.String(64), primary_key=True, autoincrement=False),
        sa.Column("tool", sa.String(256), primary_key=True, autoincrement=False),
        sa.Column("pinned_fingerprint", sa.String(64), nullable=True),
        sa.Column("pinned_definition", sa.Text, nullable=True),
        sa.Column("approved_by", sa.String(256), nullable=True),
        sa.Column("approved_at", sa.Float, nullable=True),
        sa.Column("accepted_findings", sa.Text, nullable=True),
        sa.Column("seen_fingerprint", sa.String(64), nullable=False),
        sa.Column("seen_definition", sa.Text, nullable=False),
        sa.Column("seen_findings", sa.Text, nullable=False),
        sa.Column("first_seen_at", sa.Float, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
        sa.Column("present", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("proctor_mcp_tool_pins")
