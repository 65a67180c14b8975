"""Budgets: accounts (the rows reservations lock) and their entries.

Revision ID: 0009_budgets
Revises: 0008_gateway
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_budgets"
down_revision = "0008_gateway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_budget_accounts",
        sa.Column("key", sa.String(1024), primary_key=True, autoincrement=False),
        sa.Column("budget", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "proctor_budget_entries",
        sa.Column("reservation", sa.String(40), primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(1024), primary_key=True, autoincrement=False),
        sa.Column("budget", sa.String(200), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
    )
    op.create_index("ix_proctor_budget_entries_key", "proctor_budget_entries", ["key", "at"])
    op.create_index("ix_proctor_budget_entries_budget", "proctor_budget_entries", ["budget"])


def downgrade() -> None:
    op.drop_index("ix_proctor_budget_entries_budget", "proctor_budget_entries")
    op.drop_index("ix_proctor_budget_entries_key", "proctor_budget_entries")
    op.drop_table("proctor_budget_entries")
    op.drop_table("proctor_budget_accounts")
