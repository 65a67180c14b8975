"""What the audit log records: one ``Event`` per thing that happened, built from model values.

Bodies are JSON objects. Argument values never enter them: only names, JSON types and SHA-256
digests of their canonical JSON (``mask_args``). Tool output likewise: a type and a digest.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from proctor.audit._canonical import Digest, mask_args, mask_value, value_digest
from proctor.audit._keys import Signer
from proctor.flow import Labeled
from proctor.model import Decision, Outcome, Receipt, Session, Step, ToolCall, new_id

if TYPE_CHECKING:
    from proctor.vault import DataReport

MAX_TEXT = 2000


class EventKind(StrEnum):
    """The kinds of audit record."""

    SESSION_OPENED = "session.opened"
    CONTENT_INGESTED = "content.ingested"
    DECISION = "decision"
    OUTCOME = "outcome"
    APPROVAL = "approval"
    BREAK_GLASS = "break_glass"
    ALERT = "alert"
    DATA_ACCESS = "data.access"
    AGENT_CONTROL = "agent.control"
    MEMORY_WRITTEN = "memory.written"
    MEMORY_REVIEWED = "memory.reviewed"
    MEMORY_DELETED = "memory.deleted"
    MEMORY_ERASED = "memory.erased"
    MEMORY_LEAK = "memory.leak"
    TOOL_PIN = "tool.pin"

    def __str__(self) -> str:
        return str.__str__(self)  # the value: a member is that str (no enum property lookup)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing to record. ``links`` are the ids of earlier records it depends on."""

    kind: str
    body: Mapping[str, Any]
    session_id: str | None = None
    links: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: new_id("rec"))


def _text(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_TEXT:
        return value
    return value[:MAX_TEXT] + f"... [{len(value) - MAX_TEXT} more characters]"


def _leaves(value: object) -> Iterator[object]:
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


@functools.lru_cache(maxsize=4096)
def _number_pattern(text: str) -> re.Pattern[str]:
    """A number as a token: ``25`` in "refund 25 USD", not in "125" or "25.5"."""
    return re.compile(rf"(?<![\w.]){re.escape(text)}(?![\w]|\.\d)")


def _substitutions(args: Mapping[str, object]) -> list[tuple[str, re.Pattern[str] | None, str]]:
    """(value as text, its pattern for numbers, argument name), longest value first."""
    subs: list[tuple[str, re.Pattern[str] | None, str]] = []
    for name, value in args.items():
        for leaf in _leaves(value):
            if isinstance(leaf, bool) or leaf is None:
                continue
            if isinstance(leaf, int | float):
                text = repr(leaf)
                subs.append((text, _number_pattern(text), name))
            else:
                text = str(leaf)
                if len(text) >= 3:
                    subs.append((text, None, name))
    subs.sort(key=lambda s: -len(s[0]))  # longest first: a value inside another
    return subs


def _scrubber(args: Mapping[str, object]) -> Callable[[str | None], str | None]:
    """A function that replaces every argument value quoted in a text (a rule's reason, an error
    message) by ``<name>``: reasons may quote what they saw, the log must not keep it. The
    values are listed on the first text to scrub (most records have none: an allowed call
    has no reasons)."""
    found: list[list[tuple[str, re.Pattern[str] | None, str]]] = []

    def scrub(text: str | None) -> str | None:
        if text is None:
            return None
        if not found:
            found.append(_substitutions(args))
        for value, pattern, name in found[0]:
            if value in text:
                text = (
                    text.replace(value, f"<{name}>")
                    if pattern is None
                    else pattern.sub(f"<{name}>", text)
                )
        return _text(text)

    return scrub


def _digest_of(text: str, digest: Digest | None) -> dict[str, str]:
    masked = mask_value(text, digest)
    masked.pop("type")
    return masked


def session_opened(session: Session) -> Event:
    return Event(
        EventKind.SESSION_OPENED,
        {
            "agent": session.agent,
            "principal": session.principal,
            "tenant": session.tenant,
            "environment": str(session.environment),
            "opened_at": session.opened_at.isoformat(),
        },
        session.id,
    )


def decision(
    session: Session,
    call: ToolCall,
    decided: Decision,
    links: Sequence[str] = (),
    digest: Digest | None = None,
) -> Event:
    """The verdict on a call, the rules and reasons behind it, and the masked arguments.
    Argument values quoted in reasons are replaced by the argument's name."""
    scrub = _scrubber(call.args)
    body: dict[str, Any] = {
        "call_id": call.id,
        "tool": call.tool,
        "verdict": str(decided.verdict),
        "policy": decided.policy,
        "rule_ids": list(decided.rule_ids),
        "reasons": [scrub(r) for r in decided.reasons],
        "args": mask_args(call.args, digest),
        "steps": [
            {"step": str(s.step), "verdict": str(s.verdict), "status": str(s.status)}
            for s in decided.steps
        ],
        "provenance": provenance(decided),
        "agent_reason": scrub(call.reason),
        "confidence": call.confidence,
    }
    if decided.approval is not None:
        body["approval"] = {
            "approvers": decided.approval.approvers,
            "groups": list(decided.approval.groups),
        }
    return Event(EventKind.DECISION, body, session.id, tuple(links))


def provenance(decided: Decision) -> dict[str, dict[str, Any]]:
    """Where each argument came from, per the flow step: provenance, basis and the ids of the
    content it matched. Never the value itself (the flow step's ``seen`` carries it)."""
    out: dict[str, dict[str, Any]] = {}
    for step in decided.steps:
        if step.step is not Step.FLOW:
            continue
        for hit in step.hits:
            for path, seen in hit.seen.items():
                if isinstance(seen, Mapping) and "provenance" in seen and path not in out:
                    links = seen.get("links") or []
                    out[path] = {
                        "provenance": str(seen["provenance"]),
                        "basis": seen.get("basis"),
                        "content": [str(x) for x in links] if isinstance(links, list) else [],
                    }
    return out


def content_ingested(
    session: Session, content: Labeled, links: Sequence[str] = (), digest: Digest | None = None
) -> Event:
    """Content that entered the session: source, labels, and what was found in it, masked: the
    digest of the text the model saw, the kinds of values indexed, never the text itself."""
    kinds: dict[str, int] = {}
    for found in content.values:
        kinds[found.kind] = kinds.get(found.kind, 0) + 1
    body: dict[str, Any] = {
        "content_id": content.id,
        "source": content.source,
        "trust": str(content.label.trust),
        "confidentiality": str(content.label.confidentiality),
        "tenant": content.label.tenant,
        "text": {"length": len(content.text), **_digest_of(content.text, digest)},
        "values": dict(sorted(kinds.items())),
        "instructions": len(content.instructions),
        "findings": [],
    }
    return Event(EventKind.CONTENT_INGESTED, body, session.id, tuple(links))


def outcome(
    session: Session,
    call: ToolCall,
    result: Outcome,
    links: Sequence[str] = (),
    digest: Digest | None = None,
    policy_sha256: str | None = None,
    signer: Signer | None = None,
) -> Event:
    """What came of a call: status, output digest (never the output), approval id, error, and
    what a receipt states (``_receipts``): the verdict, rule ids and policy (with the SHA-256
    of its file, when known) the outcome followed, the session's agent, tenant, environment and
    principal (its keyed digest: a principal id may be personal data), and, with ``signer``,
    the commitment to the call's arguments (``Receipt.commit``) under a salt only ``signer``
    can derive (``Signer.receipt_salt`` of this record's id; never stored), and that key's id."""
    record_id = new_id("rec")
    commitment = None
    if signer is not None:
        commitment = Receipt.commit(signer.receipt_salt(record_id), call.args)
    body: dict[str, Any] = {
        "call_id": call.id,
        "tool": call.tool,
        "status": str(result.status),
        "verdict": str(result.decision.verdict),
        "rule_ids": list(result.decision.rule_ids),
        "policy": result.decision.policy,
        "policy_sha256": policy_sha256,
        "approval_id": result.approval_id,
        "error": _scrubber(call.args)(result.error),
        "duration_ms": None if result.duration_ms is None else round(result.duration_ms, 3),
        "agent": session.agent,
        "tenant": session.tenant,
        "environment": str(session.environment),
        "principal": _masked(session.principal, digest),
        "args_commitment": commitment,
        "commitment_key": None if signer is None else signer.key_id,
    }
    if result.ok:
        body["output"] = mask_value(result.result, digest)
    return Event(EventKind.OUTCOME, body, session.id, tuple(links), record_id)


def _masked(value: str, digest: Digest | None) -> str:
    """A personal value as the log keeps it: its keyed digest (``hmac-sha256:<key>:<hex>``), or
    ``sha256:<hex>`` for a log without a key."""
    return digest(value) if digest is not None else f"sha256:{value_digest(value)}"


def approval(
    session_id: str | None,
    approval_id: str,
    action: str,
    *,
    by: str | None = None,
    note: str | None = None,
    links: Sequence[str] = (),
) -> Event:
    """An approval event: ``requested``, ``approved``, ``denied``, ``expired`` or ``executed``."""
    body = {"approval_id": approval_id, "action": action, "by": by, "note": _text(note)}
    return Event(EventKind.APPROVAL, body, session_id, tuple(links))


def alert(
    kind: str,
    message: str,
    *,
    session_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    links: Sequence[str] = (),
) -> Event:
    """A monitor alert or break-glass use, with whatever (masked) detail explains it."""
    body = {"alert": kind, "message": _text(message), "detail": dict(detail or {})}
    return Event(EventKind.ALERT, body, session_id, tuple(links))


def data_access(session: Session, report: DataReport, links: Sequence[str] = ()) -> Event:
    """What data access controls did: who (agent, principal, tenant) read which classified
    fields in which form, which records were dropped as out of scope, which tokens were
    refused, and what the detectors found, explained, with masked excerpts. Never a value."""
    body: dict[str, Any] = {
        "agent": session.agent,
        "principal": session.principal,
        "tenant": session.tenant,
        **report.to_dict(),
    }
    return Event(EventKind.DATA_ACCESS, body, session.id, tuple(links))


def data_alerts(session: Session, report: DataReport, links: Sequence[str] = ()) -> list[Event]:
    """One alert per set of dropped records (a mis-scoped query) and per refused token."""
    out = [
        alert(
            "data.out_of_scope",
            f"{d.count} record(s) of resource {d.resource!r} dropped before the model saw them "
            f"({d.reason}: not this session's {'tenant' if d.reason == 'tenant' else 'scope'})",
            session_id=session.id,
            detail={"source": report.source, **d.to_dict()},
            links=links,
        )
        for d in report.drops
    ]
    out += [
        alert(
            "vault.token_refused",
            "a tool call carried a token that does not detokenize in this session; not executed",
            session_id=session.id,
            detail={"source": report.source, "why": why},
            links=links,
        )
        for why in report.refused
    ]
    return out


def scrub(args: Mapping[str, object], text: str | None) -> str | None:
    """``text`` with every argument value it quotes replaced by ``<name>``, bounded in length:
    for reasons and notes that leave the gate (the audit log, a webhook)."""
    return _scrubber(args)(text)


def approval_transition(
    approval_id: str,
    action: str,
    *,
    session_id: str | None,
    by: str | None,
    state: tuple[str | None, str | None] = (None, None),
    note: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> Event:
    """A step of an approval request: ``requested``, ``voted``, ``approved``, ``denied``,
    ``escalated``, ``expired``, ``cancelled``, ``executing``, ``executed`` or ``failed``, with
    the state it moved from and to (``state``), who acted, and masked ``detail``."""
    body: dict[str, Any] = {
        "approval_id": approval_id,
        "action": action,
        "by": by,
        "from": state[0],
        "to": state[1],
        "note": _text(note),
        **dict(detail or {}),
    }
    return Event(EventKind.APPROVAL, body, session_id)


def break_glass(
    grant_id: str,
    action: str,
    *,
    agent: str,
    tools: Sequence[str],
    by: str | None,
    reason: str | None,
    expires_at: str | None,
    environment: str | None = None,
    tenant: str | None = None,
) -> Event:
    """A break-glass override ``issued``, ``revoked`` or ``ended`` (expired), for ``agent`` in
    ``environment`` (and ``tenant``; None: every tenant)."""
    body = {
        "grant_id": grant_id,
        "action": action,
        "agent": agent,
        "environment": environment,
        "tenant": tenant,
        "tools": list(tools),
        "by": by,
        "reason": _text(reason),
        "expires_at": expires_at,
    }
    return Event(EventKind.BREAK_GLASS, body)


def agent_control(agent: str, action: str, *, by: str, reason: str | None) -> Event:
    """The kill switch: an agent ``paused`` or ``resumed``."""
    body = {"agent": agent, "action": action, "by": by, "reason": _text(reason)}
    return Event(EventKind.AGENT_CONTROL, body)
