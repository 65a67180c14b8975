"""An in-process approval queue: every HOLD becomes an item a person can see."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from proctor.hooks import GateHooks
from proctor.model import Decision, Session, ToolCall, new_id


@dataclass(frozen=True, slots=True)
class PendingApproval:
    id: str
    session: Session
    call: ToolCall
    decision: Decision
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class InMemoryApprovals(GateHooks):
    """Keeps held calls in memory, in arrival order. Lost on restart: use the durable store in
    production."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, PendingApproval] = {}

    async def on_hold(self, session: Session, call: ToolCall, decision: Decision) -> str:
        item = PendingApproval(new_id("apr"), session, call, decision)
        with self._lock:
            self._items[item.id] = item
        return item.id

    def pending(self) -> list[PendingApproval]:
        with self._lock:
            return list(self._items.values())

    def get(self, approval_id: str) -> PendingApproval | None:
        with self._lock:
            return self._items.get(approval_id)
