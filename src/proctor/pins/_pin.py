"""``ToolPin``: one tool of one server as the pin store has it, and its state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Row

from proctor.approvals._db import loads
from proctor.pins._definition import PREFIX, diff


class PinState(StrEnum):
    PINNED = "pinned"  # the definition listed now is the one approved
    NEW = "new"  # never approved (or revoked): not exposed
    CHANGED = "changed"  # listed now with another definition than the one approved: blocked
    REMOVED = "removed"  # not in the last listing

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ToolPin:
    """One tool of one server, as the store has it."""

    server: str
    tool: str
    pinned_fingerprint: str | None
    pinned_definition: dict[str, Any] | None
    approved_by: str | None
    approved_at: float | None
    seen_fingerprint: str
    seen_definition: dict[str, Any]
    findings: list[dict[str, Any]]
    present: bool
    changed_at: float

    @property
    def state(self) -> PinState:
        if not self.present:
            return PinState.REMOVED
        if self.pinned_fingerprint is None:
            return PinState.NEW
        if self.pinned_fingerprint != self.seen_fingerprint:
            return PinState.CHANGED
        return PinState.PINNED

    def diff(self) -> str:
        """Unified diff from the pinned definition to the one last seen ("" if the same)."""
        return diff(
            self.pinned_definition, self.seen_definition, label=f"{self.server}/{self.tool}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "tool": self.tool,
            "state": str(self.state),
            "pinned_fingerprint": self.pinned_fingerprint,
            "seen_fingerprint": self.seen_fingerprint,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at,
            "findings": self.findings,
            "present": self.present,
        }


def pin_of(row: Row[Any]) -> ToolPin:
    return ToolPin(
        server=row.server,
        tool=row.tool,
        pinned_fingerprint=row.pinned_fingerprint,
        pinned_definition=loads(row.pinned_definition),
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        seen_fingerprint=row.seen_fingerprint,
        seen_definition=loads(row.seen_definition),
        findings=loads(row.seen_findings),
        present=bool(row.present),
        changed_at=row.changed_at,
    )


def short(fp: str | None) -> str:
    return "-" if fp is None else f"sha256:{fp[:PREFIX]}"
