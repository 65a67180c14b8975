"""Group commit for the audit log: concurrent appends share one transaction.

Every request to the gateway records at least one event, and one transaction per event is
bound by the commit (an fsync on SQLite, a WAL flush on PostgreSQL). Here one writer thread
owns the appends: callers queue their batches, and the writer commits, in one ``append_many``,
every batch queued while the previous transaction was committing. Each caller still returns
only once its own records are committed, in the order it gave them, and gets its own records
back; if the shared transaction fails, every caller in it gets the error and nothing of theirs
was recorded (the gate then refuses, as for any failed append). A batch whose links are wrong
(no canonical JSON, or links to records that do not exist) is refused on its own, before it
joins a group.

The event loop's callers (``aappend_many``) await an asyncio future that the writer resolves:
no worker thread is borrowed per append, which is most of what an append cost the gateway in
CPU. Threads (``append_many``) wait on an event.

A signed checkpoint that falls due is signed by a second thread, never by the writer: signing
reads the records since the last checkpoint, hashes their Merkle root and waits for the
database's write lock (behind another process's appends, on SQLite for as long as its busy
handler sleeps), 10 to 250 ms in which no group could commit; those pauses were the tail
latency of the gateway. The records are committed before the checkpoint is due, so signing it a
little later loses nothing; dues that arrive while one is being signed make one more.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Iterable

from proctor.audit import AuditError, AuditLog, Event, Record
from proctor.audit._due import DueThread
from proctor.audit._writer import Pending


class _Waiter:
    __slots__ = ("error", "events", "future", "loop", "pending", "ready", "records")

    def __init__(
        self,
        events: list[Event],
        pending: list[Pending],
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[list[Record]] | None = None,
        ready: threading.Event | None = None,
    ) -> None:
        self.events = events
        self.pending = pending
        self.loop = loop
        self.future = future
        self.ready = ready
        self.records: list[Record] = []
        self.error: BaseException | None = None

    def settle(self) -> None:
        """In the waiter's event loop: its future gets the records, or the error."""
        future = self.future
        if future is None or future.done():  # cancelled: its records are committed all the same
            return
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.records)


def _finish(group: list[_Waiter]) -> None:
    """Wake every waiter of a committed group: threads one by one, each event loop once (one
    wake-up of the loop settles all its waiters' futures)."""
    loops: dict[asyncio.AbstractEventLoop, list[_Waiter]] = {}
    for w in group:
        if w.ready is not None:
            w.ready.set()
        elif w.loop is not None:
            loops.setdefault(w.loop, []).append(w)
    for loop, waiters in loops.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            loop.call_soon_threadsafe(_settle_all, waiters)


def _settle_all(waiters: list[_Waiter]) -> None:
    for w in waiters:
        w.settle()


class GroupCommitLog(AuditLog):
    """An ``AuditLog`` whose concurrent appends are committed together (at most ``max_batch``
    events per transaction) by one writer thread."""

    max_batch = 512

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._cond = threading.Condition()
        self._queue: deque[_Waiter] = deque()
        self._writer_thread: threading.Thread | None = None
        self._stopping = False
        self._signer = DueThread("proctor-audit-checkpoint", super()._checkpoint_after_append)

    def append_many(self, events: Iterable[Event]) -> list[Record]:
        batch = list(events)
        if not batch:
            return []
        pending = self._prepare(batch)  # a bad batch fails alone, before it joins a group
        ready = threading.Event()
        me = _Waiter(batch, pending, ready=ready)
        self._submit(me)
        ready.wait()
        if me.error is not None:
            raise me.error
        return me.records

    async def aappend_many(self, events: Iterable[Event]) -> list[Record]:
        batch = list(events)
        if not batch:
            return []
        pending = self._prepare(batch)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Record]] = loop.create_future()
        self._submit(_Waiter(batch, pending, loop, future))
        return await future

    def _submit(self, waiter: _Waiter) -> None:
        with self._cond:
            if self._stopping:
                raise AuditError("the audit log is closed")
            self._queue.append(waiter)
            if self._writer_thread is None:
                self._writer_thread = threading.Thread(
                    target=self._write_loop, name="proctor-audit-writer", daemon=True
                )
                self._writer_thread.start()
            self._cond.notify()

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:  # stopping, and everything queued is written
                    return
                group = self._take_group()
            self._commit_group(group)

    def _take_group(self) -> list[_Waiter]:
        """The waiting batches, oldest first, up to ``max_batch`` events (at least one)."""
        group: list[_Waiter] = []
        size = 0
        while self._queue and (not group or size + len(self._queue[0].events) <= self.max_batch):
            w = self._queue.popleft()
            group.append(w)
            size += len(w.events)
        return group

    def _commit_group(self, group: list[_Waiter]) -> None:
        try:
            records = self._append_prepared(
                [e for w in group for e in w.events], [p for w in group for p in w.pending]
            )
        except BaseException as exc:  # every caller in the group gets the error
            for w in group:
                w.error = exc
        else:
            at = 0
            for w in group:
                w.records = records[at : at + len(w.events)]
                at += len(w.events)
        _finish(group)

    def _checkpoint_after_append(self) -> None:
        """Called by the writer when an append finds a checkpoint due: the signer thread signs
        it (the log's own ``_checkpoint_after_append``, which logs a store error; the next due
        retries), the writer goes on to the next group."""
        self._signer.due()

    def close(self) -> None:
        """Write what is queued, stop the writer and the checkpoint signer, then close the log
        (which signs the head if it moved since the last checkpoint)."""
        with self._cond:
            self._stopping = True
            thread = self._writer_thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._signer.close()
        super().close()
