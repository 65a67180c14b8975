"""The outbox: every transition is written in the same transaction as the change it records,
then relayed to the audit log and the webhook.

So a change is never committed without its record: if the process dies after the commit, the
next ``relay`` (any process's) appends what is missing. The audit record's id is the outbox
row's id, so relaying twice appends once (the log refuses a second record with the same id).
Notifications are at least once; a receiver drops duplicates by ``X-Proctor-Delivery``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from proctor.approvals._db import dumps, loads, reading, writing
from proctor.approvals._notify import Notification, Notifier
from proctor.audit import AuditError, AuditLog, Event
from proctor.store import oversight_events as t

log = logging.getLogger("proctor.approvals")

PENDING, QUEUED, SENT, FAILED, NONE = "pending", "queued", "sent", "failed", "none"
REQUEUE_AFTER = 600.0  # a notification queued this long ago by a process that died: again


class Recorder:
    """Writes transitions to the outbox and relays them."""

    def __init__(
        self,
        engine: Engine,
        audit: AuditLog | None = None,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.audit = audit
        self.notifier = notifier
        self._clock = clock
        self._inflight: set[str] = set()  # handed to our notifier, not yet delivered or failed
        self._lock = threading.Lock()

    def add(
        self,
        conn: Connection,
        event: Event,
        *,
        approval_id: str | None = None,
        notice: tuple[str, str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Inside the caller's transaction: record ``event`` for the audit log and, if
        ``notice`` (event name, text, data) is given, for the webhook."""
        conn.execute(
            insert(t).values(
                id=event.id,
                kind=str(event.kind),
                session_id=event.session_id,
                approval_id=approval_id,
                body=dumps(dict(event.body)),
                notice=None if notice is None else dumps(list(notice)),
                at=self._clock(),
                audited=0,
                notify=NONE if notice is None else PENDING,
            )
        )

    def committed(self) -> None:
        """After a transition committed: relay now if possible. Never raises: the transition
        and its record are already durable in the outbox, and failing here would tell the
        caller that a committed change did not happen (a held call refused while its request
        waits in the queue). What is not relayed now is relayed by the next ``relay``."""
        try:
            self.relay()
        except Exception:
            log.exception("relaying the outbox failed; the next relay retries it")

    def relay(self, limit: int = 1000) -> int:
        """Append what the audit log lacks and hand pending notifications to the notifier.
        Returns how many records were appended. Stops at the first audit failure (order is
        kept; the rest waits for the next relay) and raises it."""
        appended = 0
        if self.audit is not None:
            with reading(self.engine) as conn:
                rows = conn.execute(
                    select(t.c.id, t.c.kind, t.c.session_id, t.c.body)
                    .where(t.c.audited == 0)
                    .order_by(t.c.seq)
                    .limit(limit)
                ).all()
            for row in rows:
                _append(self.audit, Event(row.kind, loads(row.body), row.session_id, (), row.id))
                with writing(self.engine) as conn:
                    conn.execute(update(t).where(t.c.id == row.id).values(audited=1))
                appended += 1
        if self.notifier is not None:
            self._notify(self.notifier, limit)
        return appended

    def _notify(self, notifier: Notifier, limit: int) -> None:
        stale = self._clock() - REQUEUE_AFTER
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(t.c.id, t.c.notice, t.c.notify, t.c.queued_at)
                .where((t.c.notify == PENDING) | ((t.c.notify == QUEUED) & (t.c.queued_at < stale)))
                .order_by(t.c.seq)
                .limit(limit)
            ).all()
        for row in rows:
            with self._lock:
                if row.id in self._inflight:  # ours, still being sent: not a dead process's
                    continue
            same = (
                t.c.queued_at.is_(None)
                if row.queued_at is None
                else (t.c.queued_at == row.queued_at)
            )
            with writing(self.engine) as conn:  # claim it: one process sends it
                claimed = conn.execute(
                    update(t)
                    .where(t.c.id == row.id, t.c.notify == row.notify, same)
                    .values(notify=QUEUED, queued_at=self._clock())
                ).rowcount
            if claimed != 1:
                continue
            event, text, data = loads(row.notice)
            with self._lock:
                self._inflight.add(row.id)
            notifier.submit(Notification(row.id, event, text, data), self._delivered)

    def _delivered(self, note: Notification, ok: bool) -> None:
        try:
            with writing(self.engine) as conn:
                conn.execute(
                    update(t).where(t.c.id == note.id).values(notify=SENT if ok else FAILED)
                )
        finally:
            with self._lock:
                self._inflight.discard(note.id)

    def pending(self) -> tuple[int, int]:
        """(records not yet in the audit log, notifications not yet handed over)."""
        with reading(self.engine) as conn:
            audit = conn.execute(select(t.c.id).where(t.c.audited == 0)).all()
            notes = conn.execute(select(t.c.id).where(t.c.notify == PENDING)).all()
        return len(audit), len(notes)


def _append(audit: AuditLog, event: Event) -> None:
    if audit.get(event.id) is not None:
        return  # relayed before, by this or another process
    try:
        audit.append(event)
    except AuditError:
        if audit.get(event.id) is None:  # not a concurrent relay of the same event
            raise
