"""Human in the loop: the approval queue, the two-person rule, break-glass and the kill switch.

``ApprovalQueue`` is the durable queue (SQLite or PostgreSQL, through ``proctor.store``): give it
to a gate (``Gate(policies, approvals=queue)``) and every HOLD becomes a request that people
approve or deny (``queue.approve(id, by=principal)``), executed exactly once on approval
(``Ticket``, ``ApprovalWorker``). ``InMemoryApprovals`` is the gate's default: a list in
memory, lost on restart, for tests and notebooks.
"""

from __future__ import annotations

from proctor.approvals._access import AccessRegistry, Principal, Role
from proctor.approvals._context import SessionMemory
from proctor.approvals._controls import AgentControls, BreakGlassGrant, Pause
from proctor.approvals._grants import ANY_TENANT, AgentGrant, AgentGrants
from proctor.approvals._memory import InMemoryApprovals, PendingApproval
from proctor.approvals._notify import (
    Notification,
    Notifier,
    WebhookNotifier,
    sign,
    verify_signature,
)
from proctor.approvals._outbox import Recorder
from proctor.approvals._queue import CONTAINED, KILL_SWITCH, ApprovalQueue
from proctor.approvals._request import (
    FINAL,
    ApprovalRequest,
    ApprovalState,
    Claim,
    Edit,
    NewRequest,
    Vote,
)
from proctor.approvals._settings import ApprovalSettings
from proctor.approvals._store import ApprovalStore
from proctor.approvals._ticket import Resolution, Ticket
from proctor.approvals._worker import ApprovalWorker, Recovery, idempotency_key

__all__ = [
    "ANY_TENANT",
    "CONTAINED",
    "FINAL",
    "KILL_SWITCH",
    "AccessRegistry",
    "AgentControls",
    "AgentGrant",
    "AgentGrants",
    "ApprovalQueue",
    "ApprovalRequest",
    "ApprovalSettings",
    "ApprovalState",
    "ApprovalStore",
    "ApprovalWorker",
    "BreakGlassGrant",
    "Claim",
    "Edit",
    "InMemoryApprovals",
    "NewRequest",
    "Notification",
    "Notifier",
    "Pause",
    "PendingApproval",
    "Principal",
    "Recorder",
    "Recovery",
    "Resolution",
    "Role",
    "SessionMemory",
    "Ticket",
    "Vote",
    "WebhookNotifier",
    "idempotency_key",
    "sign",
    "verify_signature",
]
