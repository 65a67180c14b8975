"""Group commit for the audit log: concurrent appends share one transaction.

Every request to the gateway records at least one event, and one transaction per event is
bound by the commit (an fsync on SQLite, a WAL flush on PostgreSQL). Here the first caller to
arrive becomes the leader and writes, in one ``append_many``, every batch queued while the
previous transaction was committing; the others wait for it. Each caller still returns only
once its own records are committed, in the order it gave them, and gets its own records back;
if the shared transaction fails, every caller in it gets the error and nothing of theirs was
recorded (the gate then refuses, as for any failed append). A batch whose links are wrong is
refused on its own, before it joins a group.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from proctor.audit import AuditLog, Event, Record


class _Waiter:
    __slots__ = ("done", "error", "events", "records")

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.records: list[Record] = []
        self.error: BaseException | None = None
        self.done = False


class GroupCommitLog(AuditLog):
    """An ``AuditLog`` whose concurrent ``append_many`` calls are committed together (at most
    ``max_batch`` events per transaction)."""

    max_batch = 512

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._cond = threading.Condition()
        self._queue: list[_Waiter] = []
        self._writing = False

    def append_many(self, events: Iterable[Event]) -> list[Record]:
        batch = list(events)
        if not batch:
            return []
        self._check_links(batch)  # a bad batch fails alone (raises AuditError)
        me = _Waiter(batch)
        with self._cond:
            self._queue.append(me)
        while True:
            with self._cond:
                while not me.done and self._writing:
                    self._cond.wait()
                if me.done:
                    return self._result(me)
                self._writing = True
                group = self._take_group()
            self._commit_group(group)

    def _take_group(self) -> list[_Waiter]:
        """The waiting batches, oldest first, up to ``max_batch`` events (at least one)."""
        group: list[_Waiter] = []
        size = 0
        while self._queue and (not group or size + len(self._queue[0].events) <= self.max_batch):
            w = self._queue.pop(0)
            group.append(w)
            size += len(w.events)
        return group

    def _commit_group(self, group: list[_Waiter]) -> None:
        try:
            records = super().append_many([e for w in group for e in w.events])
        except BaseException as exc:
            for w in group:
                w.error = exc
        else:
            at = 0
            for w in group:
                w.records = records[at : at + len(w.events)]
                at += len(w.events)
        finally:
            with self._cond:
                for w in group:
                    w.done = True
                self._writing = False
                self._cond.notify_all()

    @staticmethod
    def _result(w: _Waiter) -> list[Record]:
        if w.error is not None:
            raise w.error
        return w.records
