"""Break-glass scope: an override names the environment (and optionally the tenant) it is for.

Rows issued before this migration get a NULL environment, which matches no session: such an
override lifts nothing (fail closed); issue a new one, scoped.

Revision ID: 0007_break_glass_scope
Revises: 0006_monitor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_break_glass_scope"
down_revision = "0006_monitor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: the rows already there have no scope, and so match nothing
    op.add_column("proctor_break_glass", sa.Column("environment", sa.String(16), nullable=True))
    op.add_column("proctor_break_glass", sa.Column("tenant", sa.String(128), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("break-glass history is never dropped by a migration")
