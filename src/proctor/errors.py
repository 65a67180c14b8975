"""Every exception Proctor raises on purpose.

::

    ProctorError
    ├── PolicyError            a policy file is malformed; names file, line, field, expectation
    │   └── PolicyConflictError  two policy files claim the same agent and environment
    ├── RegistrationError      a tool implementation does not match its policy declaration
    ├── UnknownAgentError      a session names an agent no loaded policy declares
    ├── DetectorConfigError    a detector registry's YAML names an unknown detector or option
    ├── HostileContentError    content judged hostile was withheld from the model (quarantine)
    ├── GateClosedError        the synchronous API was used inside a running event loop
    ├── DataAccessError        data access controls are misconfigured or refused content
    ├── VaultError             a token is unknown here, or the vault's keys cannot decrypt it
    ├── CredentialError        a scoped credential or a secret reference was refused
    │   ├── CredentialExpiredError      the token's lifetime is over
    │   ├── CredentialReplayedError     the token was already presented once
    │   ├── CredentialScopeError        the token is for another tool, session or tenant
    │   └── EnvironmentMismatchError    a credential or secret of another environment
    ├── ApprovalError          an approval request cannot do what was asked
    │   ├── ApprovalNotFoundError  no request, grant or agent with that id
    │   ├── ApprovalStateError     the request is not in the state the action needs
    │   │   └── ApprovalVersionError   an approve of an edited request names no or a stale version
    │   ├── ApprovalEditError      a reviewer's edit of the arguments is malformed or refused
    │   └── ApprovalConfigError    approval settings are invalid (webhook URL or secret, caps)
    ├── AccessDeniedError      the caller's role, group or relation to the request forbids it
    │   └── AuthenticationError    unknown principal, wrong key, or disabled
    ├── MemoryScopeError       a memory call without a complete scope (tenant, workspace, agent)
    ├── MemoryLeakError        content carried values or tokens of another tenant or subject
    ├── MemoryItemError        a memory item is malformed, unknown here, or not awaiting review
    ├── MemoryVectorError      vector search without an embedder, or the embedder failed
    ├── MonitorError           monitoring is misconfigured (a sink it lacks, a bad setting)
    ├── BudgetError            a budget ledger cannot read or record (the gate denies the call)
    ├── ToolNotStartedError    a tool refused before its side effect started (budget released)
    ├── GatewayError           the HTTP gateway or the MCP proxy cannot start or serve
    │   └── GatewayConfigError     a gateway or proxy setting is invalid
    ├── ToolPinError           a tool pin cannot be approved or revoked as asked (unknown
    │                          tool, unaccepted findings, changed since it was reviewed,
    │                          fingerprint malformed or under 16 hex digits)
    └── ReceiptError           a receipt is malformed, or its signature or inclusion proof
                               does not verify (``proctor.audit.verify_receipt``)

A check that fails at decision time never raises to the caller: it becomes a DENY whose
reason names the error (fail closed). These exceptions are for configuration and misuse.
"""

from __future__ import annotations

from dataclasses import dataclass


class ProctorError(Exception):
    """Base class of every exception raised by Proctor."""


@dataclass(frozen=True)
class PolicyProblem:
    """One problem in a policy file, located as precisely as the YAML allows."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class PolicyError(ProctorError):
    """A policy file failed to load. ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class PolicyConflictError(PolicyError):
    """Two policy files declare the same agent for the same environment."""


class RegistrationError(ProctorError):
    """A tool implementation does not match what the policy declares for it."""


class UnknownAgentError(ProctorError):
    """A session was opened for an agent that no loaded policy declares."""


class GateClosedError(ProctorError):
    """The synchronous API was called from inside a running event loop; use the async one."""


class DetectorConfigError(ProctorError):
    """A detector registry configuration is invalid: names the source, the key and the problem."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key, self.message = source, key, message
        where = f"{source}: {key}:" if key else f"{source}:"
        super().__init__(f"{where} {message}")


class HostileContentError(ProctorError):
    """Untrusted content was judged hostile and the policy withholds it from the model
    (``detectors.on_hostile: quarantine``, or ``strip`` for a tool output). The content is
    recorded in the session; ``reasons`` say why it was judged hostile."""

    def __init__(self, source: str, content_id: str, reasons: tuple[str, ...]) -> None:
        self.source, self.content_id, self.reasons = source, content_id, reasons
        why = "; ".join(reasons[:3]) or "judged hostile"
        super().__init__(f"content {content_id} from {source} withheld as hostile: {why}")


class DataAccessError(ProctorError):
    """Data access controls are misconfigured (say, PII detection without ``proctor[pii]``), or
    refused content they could not classify (fail closed)."""


class VaultError(ProctorError):
    """A token does not detokenize here (unknown, or of another tenant or session: the message
    never says which), or the vault's keys cannot decrypt or are malformed."""


class CredentialError(ProctorError):
    """A scoped credential or a secret reference was refused."""


class CredentialExpiredError(CredentialError):
    """The credential's lifetime is over."""


class CredentialReplayedError(CredentialError):
    """The credential was already presented once: each is good for one call."""


class CredentialScopeError(CredentialError):
    """The credential was minted for another tool, session or tenant, or is not one of ours."""


class EnvironmentMismatchError(CredentialError):
    """A credential or secret of one environment was presented to another
    (production refuses staging and dev, and vice versa)."""


class ApprovalError(ProctorError):
    """An approval request, a break-glass override or an agent control cannot do what was
    asked: the message names the request and the reason."""


class ApprovalNotFoundError(ApprovalError):
    """No approval request (or break-glass override) has the given id."""


class ApprovalStateError(ApprovalError):
    """The request is not in the state the action needs: already decided, expired, or not
    approved (a denied or expired request can never execute)."""


class ApprovalVersionError(ApprovalStateError):
    """An approve did not name the version of the request the voter read, once reviewers had
    edited its arguments, or named one that changed since: a vote counts only for the
    arguments its voter saw (two-person rule). Nothing was voted; read it again."""


class ApprovalEditError(ApprovalError):
    """A reviewer's edit of a held call's arguments was refused: not a JSON object, changes
    nothing, or (judged by the gate) invalid for the tool's schema, over a limit, or carrying a
    value the session saw only in untrusted content. Nothing was recorded as approved."""


class ApprovalConfigError(ApprovalError):
    """Approval settings are invalid: names the setting and what was expected."""


class AccessDeniedError(ProctorError):
    """The caller may not do this: wrong role, not in an approver group, the requester or the
    agent itself, or a second vote by the same person."""


class AuthenticationError(AccessDeniedError):
    """The caller's identity could not be established: unknown name, wrong key, or disabled."""


class MemoryScopeError(ProctorError):
    """A memory operation was called without a complete scope (tenant, workspace and agent,
    each a valid name), or a session's memory scope cannot be resolved. There is no memory
    call without a scope."""


class MemoryLeakError(ProctorError):
    """Content carried values or tokens that belong to another tenant or subject; it was
    dropped before it reached the session or the store, audited and alerted on. ``reasons``
    name the kinds of values (never the values)."""

    def __init__(self, source: str, reasons: tuple[str, ...]) -> None:
        self.source, self.reasons = source, reasons
        super().__init__(f"content from {source} dropped: " + "; ".join(reasons))


class MemoryItemError(ProctorError):
    """A memory item is malformed (kind, text), unknown in this tenant, or not awaiting the
    review asked for; or its reviewer is not named."""


class MemoryVectorError(ProctorError):
    """Vector (or hybrid) memory search was asked of a memory with no embedder configured, or
    the embedder failed or returned vectors of the wrong shape. Never a silent fall back to
    keyword search."""


class MonitorError(ProctorError):
    """Monitoring is misconfigured: a policy asks for a sink (the webhook) this monitor was not
    given, or a monitor setting is invalid. Names the agent or setting."""


class GatewayError(ProctorError):
    """The HTTP gateway or the MCP proxy cannot start or serve as asked (a missing extra, a
    downstream server that does not answer): the message says what and how to fix it."""


class GatewayConfigError(GatewayError):
    """A gateway or proxy setting is invalid: names the setting and what was expected."""


class BudgetError(ProctorError):
    """A budget ledger (SQL store or Redis) cannot read or record what a budget spent. The
    gate turns it into a DENY of the call (fail closed)."""


class ToolNotStartedError(ProctorError):
    """Raised by a tool (or the gate) when the call provably never started its side effect:
    a connection that could not be opened before the request was sent, arguments or
    credentials that could not be prepared. Only this exception gives a call's budget
    reservation back; any other exception after the tool started leaves it spent, since its
    effect is unknown (docs/budgets.md). Raise it only when nothing was sent."""


class ToolPinError(ProctorError):
    """A tool pin cannot be approved or revoked as asked: no such tool was seen on that server,
    its definition has detector findings that were not accepted, or it changed since the
    operator reviewed it (the fingerprint given no longer matches), or the fingerprint given is
    not one (not hex, or fewer than 16 hex digits)."""


class ReceiptError(ProctorError):
    """A receipt is malformed, not signed by a trusted key, or its inclusion proof fails."""
