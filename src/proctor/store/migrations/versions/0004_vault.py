"""The tokenization vault: one row per token, the value sealed with AES-256-GCM.

Revision ID: 0004_vault
Revises: 0003_approvals
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_vault"
down_revision = "0003_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_vault_tokens",
        sa.Column("token", sa.String(64), primary_key=True, autoincrement=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("data_class", sa.String(16), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index(
        "ix_proctor_vault_tokens_scope", "proctor_vault_tokens", ["tenant", "session_id"]
    )
    op.create_index("ix_proctor_vault_tokens_key_id", "proctor_vault_tokens", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_proctor_vault_tokens_key_id", "proctor_vault_tokens")
    op.drop_index("ix_proctor_vault_tokens_scope", "proctor_vault_tokens")
    op.drop_table("proctor_vault_tokens")
