"""The durable store: a SQLAlchemy engine from settings, the tables, Alembic migrations.

SQLite (one file, WAL mode) by default; PostgreSQL with ``PROCTOR_DATABASE_URL``.
"""

from __future__ import annotations

from proctor.store._engine import create_store_engine, is_sqlite
from proctor.store._errors import StoreError
from proctor.store._migrate import (
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    migrate,
)
from proctor.store._settings import StoreSettings
from proctor.store._tables import (
    GENESIS_HASH,
    agent_controls,
    agent_grants,
    approval_edits,
    approval_executions,
    approval_requests,
    approval_votes,
    audit_checkpoints,
    audit_head,
    audit_records,
    break_glass,
    budget_accounts,
    budget_entries,
    gateway_sessions,
    mcp_tool_pins,
    memory_items,
    memory_values,
    metadata,
    monitor_buckets,
    monitor_state,
    oversight_events,
    principals,
    vault_tokens,
)

__all__ = [
    "GENESIS_HASH",
    "VERSION_TABLE",
    "StoreError",
    "StoreSettings",
    "agent_controls",
    "agent_grants",
    "alembic_config",
    "approval_edits",
    "approval_executions",
    "approval_requests",
    "approval_votes",
    "audit_checkpoints",
    "audit_head",
    "audit_records",
    "break_glass",
    "budget_accounts",
    "budget_entries",
    "create_store_engine",
    "current_revision",
    "gateway_sessions",
    "head_revision",
    "is_sqlite",
    "mcp_tool_pins",
    "memory_items",
    "memory_values",
    "metadata",
    "migrate",
    "monitor_buckets",
    "monitor_state",
    "oversight_events",
    "principals",
    "vault_tokens",
]
