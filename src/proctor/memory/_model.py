"""What memory holds: items, where each came from, and the reports of erasure and sweeping."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from proctor.flow import Confidentiality, Labeled, Trust
from proctor.flow._labels import PRINCIPAL_SOURCES
from proctor.memory._scope import Scope


class Status(StrEnum):
    """``active``: may be returned. ``pending``: quarantined until a person reviews it."""

    ACTIVE = "active"
    PENDING = "pending"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an item came from: the source and labels of the content it derives from, the
    session, and the ids of that content (``Labeled.id``) and of its audit records."""

    source: str
    trust: Trust
    confidentiality: Confidentiality = Confidentiality.INTERNAL
    session_id: str | None = None
    contents: tuple[str, ...] = ()
    records: tuple[str, ...] = ()

    @classmethod
    def principal(cls, source: str = "operator", *, session_id: str | None = None) -> Origin:
        """The operator's or the user's own words (``user``, ``operator``, ``system``)."""
        if source not in PRINCIPAL_SOURCES:
            raise ValueError(f"{source!r} is not a principal source ({sorted(PRINCIPAL_SOURCES)})")
        return cls(source, Trust.TRUSTED, session_id=session_id)

    @classmethod
    def of(cls, contents: Iterable[Labeled], *, session_id: str | None = None) -> Origin:
        """Derived from ingested contents: untrusted if any of them is, as confidential as
        the most confidential. No content: untrusted (nothing vouches for it)."""
        got = list(contents)
        if not got:
            return cls("derived", Trust.UNTRUSTED, session_id=session_id)
        trusted = all(c.trusted for c in got)
        sources = sorted({c.source for c in got})
        return cls(
            sources[0] if len(sources) == 1 else "derived:" + ",".join(sources),
            Trust.TRUSTED if trusted else Trust.UNTRUSTED,
            max(c.label.confidentiality for c in got),
            session_id,
            tuple(c.id for c in got),
        )


@dataclass(frozen=True, slots=True)
class MemoryItem:
    """One item. ``trusted`` is False for items derived from untrusted content and, always,
    for items whose text carries instruction-like content (``findings`` explain why)."""

    id: str
    scope: Scope
    kind: str
    text: str
    status: Status
    trusted: bool
    confidentiality: Confidentiality
    source: str
    session_id: str | None
    contents: tuple[str, ...]
    audit_id: str | None
    findings: tuple[str, ...]
    created_at: float
    expires_at: float
    reviewed_by: str | None = None
    reviewed_at: float | None = None

    @property
    def pending(self) -> bool:
        return self.status is Status.PENDING

    @property
    def instruction_like(self) -> bool:
        return bool(self.findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "tenant": self.scope.tenant,
            "workspace": self.scope.workspace,
            "agent": self.scope.agent,
            "subject": self.scope.subject,
            "kind": self.kind,
            "text": self.text,
            "status": str(self.status),
            "trusted": self.trusted,
            "confidentiality": str(self.confidentiality),
            "source": self.source,
            "session_id": self.session_id,
            "contents": list(self.contents),
            "audit_id": self.audit_id,
            "findings": list(self.findings),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at,
        }


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What erasing a subject deleted: every item about it, in every workspace and agent of
    the tenant, whatever its status, and the fingerprints of their values."""

    tenant: str
    subject: str
    items: tuple[str, ...]
    by_kind: dict[str, int] = field(default_factory=dict)
    by_workspace: dict[str, int] = field(default_factory=dict)
    fingerprints: int = 0
    audit_id: str | None = None

    @property
    def count(self) -> int:
        return len(self.items)

    def to_dict(self) -> dict[str, object]:
        return {
            "tenant": self.tenant,
            "subject": self.subject,
            "count": self.count,
            "items": list(self.items),
            "by_kind": dict(sorted(self.by_kind.items())),
            "by_workspace": dict(sorted(self.by_workspace.items())),
            "fingerprints": self.fingerprints,
            "audit_id": self.audit_id,
        }
