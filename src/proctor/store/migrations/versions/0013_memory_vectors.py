"""Memory vector search: each item's vector (little-endian float32 bytes, unit length) and the
name of the embedder that made it. Both are empty when no embedder was configured at ``put``.

The columns are on ``proctor_memory_items``: the row-level security of ``0005_memory``
applies to them as to every other column (a vector is found only through its tenant's rows).

Revision ID: 0013_memory_vectors
Revises: 0012_approval_edits
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_memory_vectors"
down_revision = "0012_approval_edits"
branch_labels = None
depends_on = None

ITEMS = "proctor_memory_items"


def upgrade() -> None:
    with op.batch_alter_table(ITEMS) as batch:
        batch.add_column(sa.Column("embedding", sa.LargeBinary, nullable=True))
        batch.add_column(sa.Column("embedding_model", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(ITEMS) as batch:
        batch.drop_column("embedding_model")
        batch.drop_column("embedding")
