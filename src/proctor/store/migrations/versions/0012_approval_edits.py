"""Approve with edit: each reviewer's edit of a held call's arguments, and the votes it reset.

Votes stay append-only: the votes on an edited request's arguments are kept under
``<request id>#<edit number>`` in ``proctor_approval_votes`` (a new round, so that a person whose
approval the edit reset can approve the edited call), the earlier rounds' votes stay where they
are.

Revision ID: 0012_approval_edits
Revises: 0011_receipts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_approval_edits"
down_revision = "0011_receipts"
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
    # edits are evidence: once made, never changed (the audit log has them too)
    table = "proctor_approval_edits"
    if op.get_bind().dialect.name == "postgresql":
        # proctor_refuse_change() is created by 0001_audit_log
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION proctor_refuse_change()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("approval history is never dropped by a migration")
