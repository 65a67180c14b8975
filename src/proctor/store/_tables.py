"""The tables, as SQLAlchemy Core sees them. The migrations create them; a test checks that the
two agree. Every name starts with ``proctor_`` so the store can share a database."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""

audit_records = Table(
    "proctor_audit_records",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(64), nullable=False, unique=True),
    Column("ts", String(40), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("session_id", String(128), nullable=True),
    Column("links", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_proctor_audit_records_session_id", "session_id"),
)
"""One row per audit event. Append-only: UPDATE and DELETE raise in the database."""

audit_checkpoints = Table(
    "proctor_audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    Column("ts", String(40), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    # migration 0011_receipts: version 2 also signs the Merkle root over the records since the
    # checkpoint before (at seq ``tree_from``); version 1 rows have neither
    Column("version", Integer, nullable=False, server_default="1"),
    Column("root", String(64), nullable=True),
    Column("tree_from", BigInteger, nullable=True),
)
"""Signed checkpoints: an Ed25519 signature over (seq, head hash), and from version 2 over the
Merkle root of the records since the previous checkpoint. Append-only."""

audit_head = Table(
    "proctor_audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("checkpoint_seq", BigInteger, nullable=False),
    Column("checkpoint_at", Float, nullable=False),
)
"""One row (id 1): the chain head. Appenders lock it; verification never trusts it."""

vault_tokens = Table(
    "proctor_vault_tokens",
    metadata,
    Column("token", String(64), primary_key=True, autoincrement=False),
    Column("tenant", String(128), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("data_class", String(16), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_proctor_vault_tokens_scope", "tenant", "session_id"),
    Index("ix_proctor_vault_tokens_key_id", "key_id"),
)
"""Tokenization vault: one row per token. ``sealed`` is nonce || AES-256-GCM ciphertext of the
value, with the token, tenant, session, kind and class as associated data: a row moved to
another tenant or session no longer decrypts."""
# -- approvals, agent controls and principals (migration 0003_approvals) -----------------------

approval_requests = Table(
    "proctor_approval_requests",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("agent", String(64), nullable=False),
    Column("environment", String(16), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("principal", String(256), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("call_id", String(64), nullable=False, unique=True),
    Column("tool", String(64), nullable=False),
    Column("args", Text, nullable=False),
    Column("agent_reason", Text, nullable=True),
    Column("confidence", Float, nullable=True),
    Column("held_by", Text, nullable=False),
    Column("approvers", Integer, nullable=False),
    Column("groups", Text, nullable=False),
    Column("excluded", Text, nullable=False),
    Column("context", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("expires_seconds", Integer, nullable=False),
    Column("on_expiry", String(16), nullable=False),
    Column("escalate_to", String(256), nullable=False),
    Column("escalated", Integer, nullable=False),
    Column("decided_at", Float, nullable=True),
    Column("decided_by", Text, nullable=True),
    Column("result", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("finished_at", Float, nullable=True),
    Index("ix_proctor_approval_requests_state", "state", "expires_at"),
    Index("ix_proctor_approval_requests_session_id", "session_id"),
)
"""One row per approval request. ``state`` moves only forward, by compare-and-set on
``version`` under a row lock; ``args`` is the exact call (JSON), needed to execute it."""

approval_votes = Table(
    "proctor_approval_votes",
    metadata,
    Column("approval_id", String(64), primary_key=True),
    Column("approver", String(256), primary_key=True),
    Column("vote", String(16), nullable=False),
    Column("groups", Text, nullable=False),
    Column("note", Text, nullable=True),
    Column("at", Float, nullable=False),
)
"""One vote per person per request (the primary key makes people distinct). Append-only. The
votes on a request's arguments after its N-th edit are kept under ``approval_id`` ``<id>#<N>``
(migration 0012_approval_edits): an edit starts a new round of votes."""

approval_executions = Table(
    "proctor_approval_executions",
    metadata,
    Column("idempotency_key", String(80), primary_key=True),
    Column("approval_id", String(64), nullable=False, unique=True),
    Column("executor", String(64), nullable=False),
    Column("claimed_at", Float, nullable=False),
    Column("lease_until", Float, nullable=False),
)
"""The claim that makes execution exactly-once: one row per approved request, ever."""

agent_controls = Table(
    "proctor_agent_controls",
    metadata,
    Column("agent", String(64), primary_key=True),
    Column("paused", Integer, nullable=False),
    Column("changed_by", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("changed_at", Float, nullable=False),
    Column("max_autonomy", String(16), nullable=True),  # migration 0006_monitor
)
"""The kill switch: one row per agent that was ever paused or contained. ``max_autonomy``:
the monitor's containment (calls above it are denied) until a person resumes the agent."""

break_glass = Table(
    "proctor_break_glass",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("agent", String(64), nullable=False),
    Column("tools", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("issued_by", String(256), nullable=False),
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("revoked_by", String(256), nullable=True),
    Column("ended_recorded", Integer, nullable=False),
    # migration 0007_break_glass_scope: NULL (a row from before it) matches no session
    Column("environment", String(16), nullable=True),
    Column("tenant", String(128), nullable=True),  # NULL: every tenant of the environment
    Index("ix_proctor_break_glass_agent", "agent", "expires_at"),
)
"""Break-glass overrides: time-boxed, scoped to an agent, an environment (and optionally a
tenant) and tools, with a reason."""

principals = Table(
    "proctor_principals",
    metadata,
    Column("name", String(256), primary_key=True),
    Column("roles", Text, nullable=False),
    Column("groups", Text, nullable=False),
    Column("key_salt", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("disabled", Integer, nullable=False),
)
"""People who act on approvals and agents: roles, approver groups, a hashed key."""

oversight_events = Table(
    "proctor_oversight_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("session_id", String(128), nullable=True),
    Column("approval_id", String(64), nullable=True),
    Column("body", Text, nullable=False),
    Column("notice", Text, nullable=True),
    Column("at", Float, nullable=False),
    Column("audited", Integer, nullable=False),
    Column("notify", String(16), nullable=False),
    Column("queued_at", Float, nullable=True),
    Index("ix_proctor_oversight_events_pending", "audited", "notify"),
)
"""The outbox: every transition, written in its own transaction, then relayed to the audit
log (record id = ``id``, so relaying twice is harmless) and to the webhook."""

memory_items = Table(
    "proctor_memory_items",
    metadata,
    Column("id", String(40), primary_key=True, autoincrement=False),
    Column("tenant", String(128), nullable=False),
    Column("workspace", String(128), nullable=False),
    Column("agent", String(128), nullable=False),
    Column("subject", String(128), nullable=True),
    Column("kind", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("search_text", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("trust", String(16), nullable=False),
    Column("confidentiality", String(16), nullable=False),
    Column("source", String(200), nullable=False),
    Column("session_id", String(128), nullable=True),
    Column("audit_id", String(64), nullable=True),
    Column("provenance", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("reviewed_by", String(200), nullable=True),
    Column("reviewed_at", Float, nullable=True),
    # migration 0013_memory_vectors: the item's vector (float32 bytes) and the embedder's name
    Column("embedding", LargeBinary, nullable=True),
    Column("embedding_model", String(128), nullable=True),
    Index(
        "ix_proctor_memory_items_scope",
        "tenant",
        "workspace",
        "agent",
        "subject",
        "status",
        "created_at",
    ),
    Index("ix_proctor_memory_items_subject", "tenant", "subject"),
    Index("ix_proctor_memory_items_expires_at", "expires_at"),
)
"""Agent memory items. On PostgreSQL, row-level security scoped to the transaction's
``proctor.tenant`` setting, forced on the owner (migration ``0005_memory``)."""

memory_values = Table(
    "proctor_memory_values",
    metadata,
    Column("value", String(64), primary_key=True, autoincrement=False),
    Column("item_id", String(40), primary_key=True, autoincrement=False),
    Column("owner", String(64), nullable=False),
    Column("subject", String(64), nullable=True),
    Index("ix_proctor_memory_values_item_id", "item_id"),
)
"""Keyed fingerprints (HMAC) of the identifying values memory items carry, with keyed digests
of their tenant and subject: what the leak filter compares content against. No value, no
tenant name."""
# -- monitoring (migration 0006_monitor) ---------------------------------------------------------

monitor_buckets = Table(
    "proctor_monitor_buckets",
    metadata,
    Column("agent", String(64), primary_key=True),
    Column("series", String(200), primary_key=True),
    Column("minute", BigInteger, primary_key=True, autoincrement=False),
    Column("value", Float, nullable=False),
)
"""Counts of minutes not yet folded into a baseline: every gateway process adds its own
(``value = value + n``); the process that closes the minute folds and deletes them."""

monitor_state = Table(
    "proctor_monitor_state",
    metadata,
    Column("agent", String(64), primary_key=True),
    Column("closed", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)
"""One row per monitored agent: its baselines (JSON) up to minute ``closed``, changed under a
row lock by the one process that folds the next minutes."""
# -- the HTTP gateway (migration 0008_gateway) ----------------------------------------------------

gateway_sessions = Table(
    "proctor_gateway_sessions",
    metadata,
    Column("id", String(128), primary_key=True, autoincrement=False),
    Column("agent", String(64), nullable=False),
    Column("principal", String(256), nullable=False),
    Column("tenant", String(128), nullable=False),
    Column("environment", String(16), nullable=False),
    Column("scope", Text, nullable=False),
    Column("owner", String(256), nullable=False),
    Column("opened_at", Float, nullable=False),
    Column("closed_at", Float, nullable=True),
    Column("closed_by", String(256), nullable=True),
    Index("ix_proctor_gateway_sessions_owner", "owner", "opened_at"),
)
"""Sessions opened through the gateway, so that every gateway process knows them. ``owner``:
the agent key (principal) that opened it, the only agent key that may use or read it."""

agent_grants = Table(
    "proctor_agent_grants",
    metadata,
    Column("principal", String(256), primary_key=True, autoincrement=False),
    Column("agents", Text, nullable=False),
    Column("tenants", Text, nullable=False),
    Column("granted_by", String(256), nullable=False),
    Column("granted_at", Float, nullable=False),
)
"""What an agent key (a principal with role ``agent``) may open sessions for: agents and
tenants (JSON lists; ``*`` in tenants: any tenant)."""

# -- MCP tool pins (migration 0010_mcp_pins) ------------------------------------------------------

mcp_tool_pins = Table(
    "proctor_mcp_tool_pins",
    metadata,
    Column("server", String(64), primary_key=True, autoincrement=False),
    Column("tool", String(256), primary_key=True, autoincrement=False),
    Column("pinned_fingerprint", String(64), nullable=True),
    Column("pinned_definition", Text, nullable=True),
    Column("approved_by", String(256), nullable=True),
    Column("approved_at", Float, nullable=True),
    Column("accepted_findings", Text, nullable=True),
    Column("seen_fingerprint", String(64), nullable=False),
    Column("seen_definition", Text, nullable=False),
    Column("seen_findings", Text, nullable=False),
    Column("first_seen_at", Float, nullable=False),
    Column("changed_at", Float, nullable=False),
    Column("present", Integer, nullable=False),
)
"""One row per downstream tool of an MCP server (``server``: the proxy's name for it): the
definition an operator approved (``pinned_*``: canonical JSON and its SHA-256; NULL until
approved, or after a revocation) and the one last listed (``seen_*``, with the detectors'
findings as a JSON list). ``present``: 1 if the last listing had it."""


# -- approve with edit (migration 0012_approval_edits) ---------------------------------------------

approval_edits = Table(
    "proctor_approval_edits",
    metadata,
    Column("approval_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("editor", String(256), nullable=False),
    Column("at", Float, nullable=False),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Column("changes", Text, nullable=False),
    Column("reset_votes", Text, nullable=False),
    Column("note", Text, nullable=True),
)
"""Each edit of a held call's arguments by a reviewer (append-only): the arguments before and
after (JSON), the changed fields, and the votes the edit reset (they approved other arguments;
they stay in ``proctor_approval_votes``, in the previous round). ``seq`` counts from 1."""


# -- budgets (migration 0009_budgets) -------------------------------------------------------------

budget_accounts = Table(
    "proctor_budget_accounts",
    metadata,
    Column("key", String(1024), primary_key=True, autoincrement=False),
    Column("budget", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)
"""One row per budget account (a budget and its scope: agent, tenant, session or key): the
row a reservation locks (``SELECT ... FOR UPDATE``), so that check-and-reserve is atomic."""

budget_entries = Table(
    "proctor_budget_entries",
    metadata,
    Column("reservation", String(40), primary_key=True, autoincrement=False),
    Column("key", String(1024), primary_key=True, autoincrement=False),
    Column("budget", String(200), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Index("ix_proctor_budget_entries_key", "key", "at"),
    Index("ix_proctor_budget_entries_budget", "budget"),
)
"""What each call spent (``expires_at`` null: committed) or holds (reserved until
``expires_at``), in micro-units, at the time it was reserved. A released reservation's row is
deleted; a sliding window sums the rows of the last ``window`` seconds."""
