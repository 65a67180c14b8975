"""Approve with edit: each reviewer's edit of a held call's arguments, and the votes it reset.

Revision ID: 0012_approval_edits
Revises: 0008_gateway
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_approval_edits"
down_revision = "0008_gateway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_approval_edits",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("editor", sa.String(256), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("after", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("reset_votes", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("proctor_approval_edits")
