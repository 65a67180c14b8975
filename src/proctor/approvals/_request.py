"""Approval requests as values: the states, the request a reviewer reads, and its votes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from proctor.model import ArgChange, ArgsEdit, Environment, Session, ToolCall, diff_args


class ApprovalState(StrEnum):
    """pending → approved | denied | expired | cancelled; approved → executing → executed |
    failed, or approved → cancelled (voided: its agent was paused before it ran).
    ``executing`` is the claim that makes execution exactly-once."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


FINAL = frozenset(
    {
        ApprovalState.DENIED,
        ApprovalState.EXPIRED,
        ApprovalState.CANCELLED,
        ApprovalState.EXECUTED,
        ApprovalState.FAILED,
    }
)
NEXT: Mapping[ApprovalState, frozenset[ApprovalState]] = {
    ApprovalState.PENDING: frozenset(
        {
            ApprovalState.APPROVED,
            ApprovalState.DENIED,
            ApprovalState.EXPIRED,
            ApprovalState.CANCELLED,
        }
    ),
    # cancelled: voided by the kill switch (``AgentControls.pause``) before anyone claimed it
    ApprovalState.APPROVED: frozenset({ApprovalState.EXECUTING, ApprovalState.CANCELLED}),
    ApprovalState.EXECUTING: frozenset({ApprovalState.EXECUTED, ApprovalState.FAILED}),
}
APPROVE, DENY = "approve", "deny"


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's vote, and the required groups they counted for when they cast it."""

    approver: str
    vote: str  # approve | deny
    groups: tuple[str, ...]
    note: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Edit:
    """One reviewer's edit of a request: the arguments before and after, what changed, and
    the approvals it reset."""

    seq: int
    editor: str
    at: float
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    changes: tuple[ArgChange, ...]
    reset_votes: tuple[Vote, ...]
    note: str | None


def satisfied(required: int, groups: Sequence[str], votes: Sequence[Vote]) -> bool:
    """Enough distinct people approved, and every required group is among them."""
    yes = [v for v in votes if v.vote == APPROVE]
    if len({v.approver for v in yes}) < required:
        return False
    return all(any(g in v.groups for v in yes) for g in groups)


@dataclass(frozen=True, slots=True)
class NewRequest:
    """What the queue stores for a held call (built by ``ApprovalQueue.on_hold``)."""

    session: Session
    call: ToolCall
    held_by: tuple[str, ...]  # the rule ids that held it: what an approval covers
    reasons: tuple[str, ...]
    approvers: int
    groups: tuple[str, ...]
    excluded: tuple[str, ...]  # who may never approve: the requester, the agent, its role
    context: Mapping[str, Any]
    expires_seconds: int
    on_expiry: str
    escalate_to: str


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A stored request: the exact call, why it was held, what the reviewer needs to judge it,
    who voted, and what came of it."""

    id: str
    state: ApprovalState
    version: int
    agent: str
    environment: str
    tenant: str
    principal: str
    session_id: str
    call_id: str
    tool: str
    args: Mapping[str, Any]
    agent_reason: str | None
    confidence: float | None
    held_by: tuple[str, ...]
    approvers: int
    groups: tuple[str, ...]
    excluded: tuple[str, ...]
    context: Mapping[str, Any]
    created_at: float
    expires_at: float
    expires_seconds: int
    on_expiry: str
    escalate_to: str
    escalated: bool
    decided_at: float | None = None
    decided_by: str | None = None
    result: Any = None
    error: str | None = None
    finished_at: float | None = None
    votes: tuple[Vote, ...] = field(default=())
    edits: tuple[Edit, ...] = field(default=())  # reviewers' edits of the arguments, in order

    @property
    def original_args(self) -> Mapping[str, Any]:
        """The arguments the agent asked for (``args`` unless a reviewer edited them)."""
        return self.edits[0].before if self.edits else self.args

    @property
    def edit(self) -> ArgsEdit | None:
        """What reviewers changed, from the agent's call to ``args``; None if nothing."""
        if not self.edits:
            return None
        editors = list(dict.fromkeys(e.editor for e in self.edits))
        return ArgsEdit(
            original=dict(self.original_args),
            args=dict(self.args),
            changes=diff_args(self.original_args, self.args),
            by=", ".join(editors),
            at=self.edits[-1].at,
        )

    @property
    def done(self) -> bool:
        """In a final state: nothing more will happen to it."""
        return self.state in FINAL

    @property
    def required_groups(self) -> tuple[str, ...]:
        """Who must approve now: the workflow owner once escalated, else the policy's groups."""
        return (self.escalate_to,) if self.escalated else self.groups

    @property
    def approved_by(self) -> tuple[str, ...]:
        return tuple(v.approver for v in self.votes if v.vote == APPROVE)

    def missing(self) -> str:
        """What the request still needs, in words ("" when nothing)."""
        if self.state is not ApprovalState.PENDING:
            return ""
        have = len(set(self.approved_by))
        parts = []
        if have < self.approvers:
            parts.append(f"{self.approvers - have} more approver(s)")
        uncovered = [
            g
            for g in self.required_groups
            if not any(g in v.groups for v in self.votes if v.vote == APPROVE)
        ]
        if uncovered:
            parts.append(" and ".join(f"a member of {g}" for g in uncovered))
        return ", ".join(parts)

    def needs(self) -> str:
        """Who must approve, in words: "2 people, a member of finance among them"."""
        groups = " and ".join(f"a member of {g}" for g in self.required_groups)
        people = "1 person" if self.approvers == 1 else f"{self.approvers} distinct people"
        return f"{people}, {groups} among them" if groups else people

    def session(self) -> Session:
        """The session that made the call, as it was (same id)."""
        return Session(
            agent=self.agent,
            principal=self.principal,
            tenant=self.tenant,
            environment=Environment(self.environment),
            id=self.session_id,
        )

    def call(self) -> ToolCall:
        """The exact call that was held (same id, reason and confidence), with the arguments
        people approved: the agent's, or a reviewer's edit of them (``edit`` says which)."""
        return ToolCall(
            self.tool,
            dict(self.args),
            self.session_id,
            id=self.call_id,
            reason=self.agent_reason,
            confidence=self.confidence,
            edit=self.edit,
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """The right to execute one approved request, held by one executor."""

    request: ApprovalRequest
    key: str  # the idempotency key: one per request, ever
    executor: str
