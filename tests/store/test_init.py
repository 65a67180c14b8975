"""The public API of ``proctor.store`` is what ``__all__`` says."""

from __future__ import annotations

import proctor.store


def test_store_public_names():
    assert sorted(proctor.store.__all__) == [
        "GENESIS_HASH",
        "StoreError",
        "StoreSettings",
        "VERSION_TABLE",
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
    for name in proctor.store.__all__:
        assert hasattr(proctor.store, name)
