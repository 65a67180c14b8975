"""The API's request and response bodies. Requests are strict: unknown fields, wrong types,
NaN and out-of-range values are refused with a 422 that names the field (Pydantic)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NAME = r"^[a-z][a-z0-9_.-]{0,63}$"
ID = r"^[A-Za-z0-9_]{1,128}$"
Text = Annotated[str, Field(min_length=1, max_length=256)]
Environment = Literal["dev", "staging", "production"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=100_000)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- requests ---------------------------------------------------------------------------------


class OpenSession(_In):
    agent: str = Field(pattern=NAME, description="The agent, as a policy names it.")
    principal: Text = Field(description="Whom the agent acts for (a user, a ticket).")
    tenant: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
    environment: Environment = "production"
    scope: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")], Text] = Field(
        default_factory=dict,
        max_length=32,
        description="What the session is about, for dynamic data scopes (`customer`).",
    )


class Ingest(_In):
    content: Any = Field(description="The content (text or JSON) entering the agent's context.")
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.:-]{0,127}$")] = Field(
        description="`user` or `operator` (trusted), `tool:NAME` (its declared labels), "
        "anything else (`email`, `web`...: untrusted)."
    )
    trust: Literal["trusted", "untrusted"] | None = None
    confidentiality: (
        Literal["public", "internal", "personal", "financial", "regulated", "secret"] | None
    ) = None
    tenant: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")


class CallIn(_In):
    tool: str = Field(pattern=NAME)
    args: dict[Annotated[str, Field(max_length=64)], Any] = Field(default_factory=dict)
    reason: str | None = Field(default=None, max_length=2000)
    confidence: float | None = Field(default=None, ge=0, le=1)


class Note(_In):
    note: str | None = Field(default=None, max_length=2000)


class ApproveIn(Note):
    args: dict[str, Any] | None = Field(
        default=None,
        description="Approve with edit: the arguments to run instead of the agent's (the whole "
        "object; the tool cannot change). Earlier approvals are reset; the edited call is "
        "decided again by the policy before it runs.",
    )
    version: int | None = Field(
        default=None,
        ge=1,
        description="The request's version you reviewed: refused (409) if it changed since, "
        "and required (409 without it) once the request has been edited.",
    )


class PauseIn(_In):
    reason: str = Field(min_length=10, max_length=2000)


class ResumeIn(_In):
    reason: str | None = Field(default=None, max_length=2000)


class ResultIn(_In):
    status: Literal["executed", "failed"]
    result: Any = None
    error: str | None = Field(default=None, max_length=4000)


# -- responses --------------------------------------------------------------------------------


class Problem(_Out):
    """Every error that is not a validation error: what went wrong, in words."""

    error: str = Field(description="The kind of error, e.g. `access_denied`.")
    message: str
    detail: list[dict[str, Any]] | None = Field(
        default=None, description="For `invalid` requests: each field refused, and why."
    )


class Health(_Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


class SessionOut(_Out):
    id: str
    agent: str
    principal: str
    tenant: str
    environment: Environment
    scope: dict[str, str]
    owner: str
    opened_at: float
    closed: bool


class IngestOut(_Out):
    content_id: str | None
    source: str
    trust: str | None
    confidentiality: str | None
    tenant: str | None
    text: str | None = Field(description="What the model may see: masked, fenced if untrusted.")
    withheld: bool = Field(description="Judged hostile and withheld from the model.")
    reasons: list[str]


class HitOut(_Out):
    rule_id: str
    verdict: Literal["ALLOW", "HOLD", "DENY"]
    reason: str


class StepOut(_Out):
    step: str
    verdict: Literal["ALLOW", "HOLD", "DENY"]
    status: str
    hits: list[HitOut]


class DecisionOut(_Out):
    call_id: str
    tool: str
    verdict: Literal["ALLOW", "HOLD", "DENY"]
    status: Literal["allowed", "pending", "denied", "executed", "failed", "fallback"]
    approval_id: str | None
    reasons: list[str]
    rule_ids: list[str]
    steps: list[StepOut]
    receipt: dict[str, Any] | None = Field(
        default=None,
        description="The audit log's signed receipt of the recorded outcome, with the opening "
        "of its commitment to the call's arguments: verify it with `proctor receipt verify` "
        "(and `--args`) and the log's public key (docs/audit.md, Receipts).",
    )


class CallOut(DecisionOut):
    result: Any = None
    text: str | None = Field(default=None, description="What the model may see of the result.")
    error: str | None = None
    duration_ms: float | None = None


class VoteOut(_Out):
    approver: str
    vote: str
    note: str | None
    at: float


class ChangeOut(_Out):
    field: str
    old: Any
    new: Any
    kind: Literal["changed", "added", "removed"]


class EditOut(_Out):
    by: str = Field(description="Who edited the arguments (comma-separated if several did).")
    at: float | None
    original: dict[str, Any] = Field(description="The arguments the agent asked for.")
    args: dict[str, Any] = Field(description="The arguments people approved.")
    changes: list[ChangeOut]


class ApprovalOut(_Out):
    id: str
    state: str
    agent: str
    environment: str
    tenant: str
    principal: str
    session_id: str
    call_id: str
    tool: str
    args: dict[str, Any]
    agent_reason: str | None
    held_by: list[str]
    approvers: int
    groups: list[str]
    context: Any
    created_at: float
    expires_at: float
    decided_by: str | None
    result: Any
    error: str | None
    votes: list[VoteOut]
    version: int | None = None
    edit: EditOut | None = Field(default=None, description="Set when reviewers edited the call.")


class ApprovalList(_Out):
    approvals: list[ApprovalOut]


class ResolutionOut(_Out):
    approval_id: str
    state: str
    done: bool
    executed: bool
    result: Any = None
    error: str | None = None
    decided_by: str | None = None
    note: str | None = None
    edit: EditOut | None = Field(
        default=None, description="Reviewers changed the arguments: what, and who."
    )


class ClaimOut(_Out):
    approval_id: str
    idempotency_key: str = Field(description="Send it to the system the tool calls.")
    executor: str
    args: dict[str, Any] | None = Field(
        default=None, description="The arguments to run: reviewers may have edited them."
    )
    edit: EditOut | None = None


class StoryOut(_Out):
    session_id: str
    lines: list[str]


class ProblemOut(_Out):
    seq: int
    fault: str
    message: str


class VerifyOut(_Out):
    ok: bool
    records: int
    last_seq: int
    head_hash: str
    checkpoints: int
    keys_trusted: bool
    problems: list[ProblemOut]


class PauseOut(_Out):
    agent: str
    paused: bool
    by: str | None
    reason: str | None
    at: float | None


class PolicyOut(_Out):
    agent: str
    environments: list[str]
    file: str
    digest: str
    tools: list[str]


class PolicyList(_Out):
    policies: list[PolicyOut]
