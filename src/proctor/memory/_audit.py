"""The audit records memory writes: one per item written, reviewed or deleted, one per erasure
and per sweep, and a ``memory.leak`` record with an ``alert`` for every drop. Never a text,
nor a subject in clear: lengths and keyed digests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from proctor.audit._events import Event, EventKind, alert
from proctor.memory._model import ErasureReport, MemoryItem
from proctor.vault import KeyedDigest


def _item(item: MemoryItem, digest: KeyedDigest) -> dict[str, Any]:
    s = item.scope
    return {
        "item_id": item.id,
        "tenant": s.tenant,
        "workspace": s.workspace,
        "agent": s.agent,
        "subject": None if s.subject is None else digest(["subject", s.tenant, s.subject]),
        "kind": item.kind,
        "status": str(item.status),
        "trusted": item.trusted,
        "confidentiality": str(item.confidentiality),
        "source": item.source,
        "contents": list(item.contents),
        "instruction_like": len(item.findings),
        "text": {"length": len(item.text), "hmac": digest(item.text)},
        "expires_at": item.expires_at,
    }


def written(item: MemoryItem, digest: KeyedDigest, links: Sequence[str] = ()) -> Event:
    return Event(EventKind.MEMORY_WRITTEN, _item(item, digest), item.session_id, tuple(links))


def reviewed(
    item: MemoryItem, digest: KeyedDigest, *, approved: bool, by: str, note: str | None
) -> Event:
    body = {**_item(item, digest), "approved": approved, "by": by, "note": (note or "")[:500]}
    links = (item.audit_id,) if item.audit_id else ()
    return Event(EventKind.MEMORY_REVIEWED, body, None, links)


def deleted(items: Sequence[MemoryItem], digest: KeyedDigest, *, by: str, why: str) -> Event:
    body = {"why": why, "by": by, "items": [_item(i, digest) for i in items]}
    links = tuple(i.audit_id for i in items if i.audit_id)
    return Event(EventKind.MEMORY_DELETED, body, None, links)


def swept(count: int) -> Event:
    return Event(EventKind.MEMORY_DELETED, {"why": "expired", "by": "sweeper", "count": count})


def erased(report: ErasureReport, digest: KeyedDigest, *, by: str, reason: str) -> Event:
    body = {
        "tenant": report.tenant,
        "subject": digest(["subject", report.tenant, report.subject]),
        "by": by,
        "reason": reason[:500],
        "count": report.count,
        "items": list(report.items),
        "by_kind": dict(sorted(report.by_kind.items())),
        "by_workspace": dict(sorted(report.by_workspace.items())),
        "fingerprints": report.fingerprints,
    }
    return Event(EventKind.MEMORY_ERASED, body)


def leak(session_id: str | None, tenant: str, source: str, reasons: Sequence[str]) -> list[Event]:
    """A ``memory.leak`` record and the ``alert`` that links to it."""
    body = {"tenant": tenant, "source": source, "reasons": list(reasons)}
    rec = Event(EventKind.MEMORY_LEAK, body, session_id)
    warn = alert(
        "memory.leak",
        f"content from {source} carried values or tokens of another tenant or subject; "
        "dropped before it reached the session",
        session_id=session_id,
        detail=body,
        links=[rec.id],
    )
    return [rec, warn]
