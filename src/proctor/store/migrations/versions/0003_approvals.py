"""Approvals: requests, votes, execution claims; the kill switch, break-glass, principals, and
the outbox that relays every transition to the audit log and the webhook.

Revision ID: 0003_approvals
Revises: 0002_audit_append
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_approvals"
down_revision = "0002_audit_append"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proctor_approval_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("environment", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(128), nullable=False),
        sa.Column("principal", sa.String(256), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=False),
        sa.Column("call_id", sa.String(64), nullable=False, unique=True),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("agent_reason", sa.Text, nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("held_by", sa.Text, nullable=False),
        sa.Column("approvers", sa.Integer, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("excluded", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("expires_seconds", sa.Integer, nullable=False),
        sa.Column("on_expiry", sa.String(16), nullable=False),
        sa.Column("escalate_to", sa.String(256), nullable=False),
        sa.Column("escalated", sa.Integer, nullable=False),
        sa.Column("decided_at", sa.Float, nullable=True),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_proctor_approval_requests_state", "proctor_approval_requests", ["state", "expires_at"]
    )
    op.create_index(
        "ix_proctor_approval_requests_session_id", "proctor_approval_requests", ["session_id"]
    )
    op.create_table(
        "proctor_approval_votes",
        sa.Column("approval_id", sa.String(64), primary_key=True),
        sa.Column("approver", sa.String(256), primary_key=True),
        sa.Column("vote", sa.String(16), nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "proctor_approval_executions",
        sa.Column("idempotency_key", sa.String(80), primary_key=True),
        sa.Column("approval_id", sa.String(64), nullable=False, unique=True),
        sa.Column("executor", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float, nullable=False),
    )
    op.create_table(
        "proctor_agent_controls",
        sa.Column("agent", sa.String(64), primary_key=True),
        sa.Column("paused", sa.Integer, nullable=False),
        sa.Column("changed_by", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changed_at", sa.Float, nullable=False),
    )
    op.create_table(
        "proctor_break_glass",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("tools", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("issued_by", sa.String(256), nullable=False),
        sa.Column("issued_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("revoked_by", sa.String(256), nullable=True),
        sa.Column("ended_recorded", sa.Integer, nullable=False),
    )
    op.create_index("ix_proctor_break_glass_agent", "proctor_break_glass", ["agent", "expires_at"])
    op.create_table(
        "proctor_principals",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("groups", sa.Text, nullable=False),
        sa.Column("key_salt", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("disabled", sa.Integer, nullable=False),
    )
    op.create_table(
        "proctor_oversight_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(128), nullable=True),
        sa.Column("approval_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("notice", sa.Text, nullable=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("audited", sa.Integer, nullable=False),
        sa.Column("notify", sa.String(16), nullable=False),
        sa.Column("queued_at", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_proctor_oversight_events_pending", "proctor_oversight_events", ["audited", "notify"]
    )
    # votes are evidence: once cast, never changed (the audit log has them too)
    table = "proctor_approval_votes"
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
