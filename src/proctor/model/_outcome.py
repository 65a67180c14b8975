"""What the caller gets back from ``Gate.call``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from proctor.model._decision import Decision
from proctor.model._edit import ArgsEdit
from proctor.model._receipt import Receipt


class OutcomeStatus(StrEnum):
    """What happened to a call after the decision."""

    EXECUTED = "executed"  # allowed, ran, output valid
    PENDING = "pending"  # held: waits for the approval named in ``approval_id``
    DENIED = "denied"  # denied: never ran
    FAILED = "failed"  # allowed, but the tool raised, timed out or returned invalid output
    FALLBACK = "fallback"  # allowed, but the circuit is open: the tool's safe fallback answered
    ALLOWED = "allowed"  # allowed, not executed here: the caller runs the tool (``authorize``)

    def __str__(self) -> str:
        return str.__str__(self)  # the value: a member is that str (no enum property lookup)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The decision, and what came of it. ``result`` is set only when the tool ran cleanly."""

    status: OutcomeStatus
    decision: Decision
    call_id: str
    result: object = None
    error: str | None = None
    approval_id: str | None = None
    duration_ms: float | None = None
    # what the model may see of ``result``: the text ``ingest`` returned for it (masked, and
    # fenced when untrusted); set for an executed call
    view: str | None = None
    # the audit log's signed receipt for the recorded outcome (``proctor.audit.AuditHook``),
    # when a log records this gate's calls; verify it with ``proctor receipt verify``
    receipt: Receipt | None = None
    # an approved call whose arguments reviewers edited: what changed, and who changed it
    edit: ArgsEdit | None = None

    @property
    def ok(self) -> bool:
        return self.status is OutcomeStatus.EXECUTED
