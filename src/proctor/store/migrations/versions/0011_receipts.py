"""Receipts: checkpoints also sign a Merkle root over the records since the checkpoint before.

Adds ``version`` (1 for every existing row: they stay verifiable as they were signed),
``root`` and ``tree_from`` to the checkpoints table. Adding a column rewrites no row, so the
append-only triggers (which refuse UPDATE and DELETE) are not involved.

Revision ID: 0011_receipts
Revises: 0010_mcp_pins
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_receipts"
down_revision = "0010_mcp_pins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "proctor_audit_checkpoints",
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.add_column("proctor_audit_checkpoints", sa.Column("root", sa.String(64), nullable=True))
    op.add_column("proctor_audit_checkpoints", sa.Column("tree_from", sa.BigInteger, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the audit log is never narrowed by a migration")
