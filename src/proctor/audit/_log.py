"""The append-only, hash-chained audit log.

Appending is one transaction (see ``_writer``): lock the chain head (``BEGIN IMMEDIATE`` on
SQLite, a row lock inside one server-side call on PostgreSQL), number the new records after it,
chain their hashes, insert them, move the head, commit. Concurrent writers, in any number of
processes, therefore queue on the head: no fork, no gap, no duplicate sequence number. A writer
that dies mid-transaction leaves nothing behind; one that committed lost nothing. When the
append finds a checkpoint due, the writer signs the head in a second, short transaction.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from proctor.audit._canonical import canonical_json
from proctor.audit._checkpoints import Checkpoint, read_checkpoints, sign_checkpoint, utc_now
from proctor.audit._errors import AuditError
from proctor.audit._events import Event
from proctor.audit._keys import Signer
from proctor.audit._settings import AuditSettings
from proctor.audit._writer import Pending, Schedule, Written, writer_for
from proctor.store import (
    audit_head,
    audit_records,
    create_store_engine,
    migrate,
)
from proctor.vault._digest import KeyedDigest

log = logging.getLogger("proctor.audit")
_RECENT = 100_000  # ids remembered to check links without a query


@dataclass(frozen=True, slots=True)
class Record:
    """A stored record, as written: its place in the chain and its content."""

    seq: int
    id: str
    ts: str
    kind: str
    session_id: str | None
    links: tuple[str, ...]
    body_json: str
    prev_hash: str
    hash: str

    @property
    def body(self) -> dict[str, Any]:
        """The body, decoded from its stored canonical JSON (on each access)."""
        body: dict[str, Any] = json.loads(self.body_json)
        return body

    def as_json(self) -> str:
        """The canonical JSON of ``as_dict()``, built around the stored body without decoding
        it ("body" sorts before every other key)."""
        rest = self.as_dict(with_body=False)
        return '{"body":' + self.body_json + "," + canonical_json(rest)[1:]

    def as_dict(self, *, with_body: bool = True) -> dict[str, Any]:
        """Every field, under the names the hash covers (``session``, ``prev``), and ``hash``."""
        fields = {
            "seq": self.seq,
            "id": self.id,
            "ts": self.ts,
            "kind": self.kind,
            "session": self.session_id,
            "links": list(self.links),
            "prev": self.prev_hash,
            "hash": self.hash,
        }
        if with_body:
            fields["body"] = self.body
        return fields


_RECORD_COLUMNS = (
    audit_records.c.seq,
    audit_records.c.id,
    audit_records.c.ts,
    audit_records.c.kind,
    audit_records.c.session_id,
    audit_records.c.links,
    audit_records.c.body,
    audit_records.c.prev_hash,
    audit_records.c.hash,
)


def _record(row: Sequence[Any]) -> Record:
    seq, rid, ts, kind, session, links, body, prev, digest = row
    return Record(int(seq), rid, ts, kind, session, tuple(json.loads(links)), body, prev, digest)


class _Lent:
    """Driver connections kept out of the pool between appends: checking one out costs a round
    trip (the liveness ping) that would double the cost of an append. An append borrows one
    (or checks a new one out when all are busy) and gives it back; a connection that failed is
    invalidated, never reused; a forked child never uses its parent's connections."""

    def __init__(
        self,
        engine: Engine,
        errors: type[Exception],
        adopt: Callable[[Any], None],
        release: Callable[[Any], None],
    ) -> None:
        self._engine = engine
        self._errors = errors
        self._adopt, self._release = adopt, release  # the writer's, per driver connection
        self._idle: list[PoolProxiedConnection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @contextmanager
    def borrow(self) -> Iterator[PoolProxiedConnection]:
        conn = self._take()
        try:
            yield conn
        except self._errors as exc:
            conn.invalidate(exc)
            raise
        except BaseException:
            conn.invalidate()
            raise
        with self._lock:
            self._idle.append(conn)

    def _take(self) -> PoolProxiedConnection:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        try:
            conn = self._engine.raw_connection()
        except (self._errors, SQLAlchemyError) as exc:
            raise AuditError(f"cannot append to the audit log: {exc}") from exc
        try:
            self._adopt(conn.driver_connection)
        except BaseException as exc:
            conn.invalidate()
            if isinstance(exc, self._errors):
                raise AuditError(f"cannot append to the audit log: {exc}") from exc
            raise
        return conn

    def close(self) -> None:
        """Return the idle connections to the pool, as the pool lent them."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            try:
                self._release(conn.driver_connection)
            except self._errors as exc:
                conn.invalidate(exc)
            conn.close()


class AuditLog:
    """Appends events to the chain and reads it back. Thread-safe; one per process is enough.
    With ``signer`` None the log is for reading and refuses to append. ``digest`` masks values
    in records (an HMAC); by default it is derived from the signing key."""

    def __init__(
        self,
        engine: Engine,
        signer: Signer | None,
        *,
        checkpoint_every: int = 1000,
        checkpoint_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        digest: KeyedDigest | None = None,
    ) -> None:
        self._engine = engine
        self._bind(engine)
        self.signer = signer
        self.digest: KeyedDigest | None = digest
        if digest is None and signer is not None:
            self.digest = KeyedDigest(signer.digest_key(), f"audit-{signer.key_id[:8]}")
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self._clock = clock
        self._recent: OrderedDict[str, None] = OrderedDict()  # ids this process appended
        self._recent_lock = threading.Lock()

    def _bind(self, engine: Engine) -> None:
        self._writer = writer_for(engine.dialect.name)
        self._driver_errors: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._lent = _Lent(engine, self._driver_errors, self._writer.adopt, self._writer.release)

    @property
    def engine(self) -> Engine:
        return self._engine

    @engine.setter
    def engine(self, engine: Engine) -> None:
        """Move the log to another engine (the same database elsewhere, or a test's broken
        one): connections lent by the old engine are returned first."""
        self._lent.close()
        self._writer.close()
        self._engine = engine
        self._bind(engine)

    @classmethod
    def open(
        cls, settings: AuditSettings | None = None, *, migrate_schema: bool = True
    ) -> AuditLog:
        """The log the settings describe (``AuditSettings.from_env()`` by default); brings the
        schema up to date first unless ``migrate_schema`` is false."""
        settings = settings or AuditSettings.from_env()
        engine = create_store_engine(settings.store)
        if migrate_schema:
            migrate(engine)
        return cls(
            engine,
            settings.signer(),
            checkpoint_every=settings.checkpoint_every,
            checkpoint_seconds=settings.checkpoint_seconds,
        )

    # -- writing ----------------------------------------------------------------------------

    def append(self, event: Event) -> Record:
        """Append one event in its own transaction; return the stored record."""
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[Event]) -> list[Record]:
        """Append events in order, in one transaction: all are recorded, or none is.
        Raises ``AuditError`` if the store refuses (nothing is then recorded), ``ValueError``
        for a body that has no canonical JSON (a NaN, say)."""
        batch = list(events)
        return self._append_prepared(batch, self._prepare(batch))

    def _prepare(self, batch: list[Event]) -> list[Pending]:
        """The batch as the writer stores it; raises for a batch that cannot be recorded (no
        canonical JSON, links to records that are not in the log)."""
        if self.signer is None:
            raise AuditError("this audit log was opened read-only (no signing key)")
        pending = [
            Pending(
                e.id,
                str(e.kind),
                e.session_id,
                canonical_json(list(e.links)),
                canonical_json(dict(e.body)),
            )
            for e in batch
        ]
        try:
            self._check_links(batch)
        except SQLAlchemyError as exc:
            raise AuditError(f"cannot append to the audit log: {exc}") from exc
        return pending

    def _append_prepared(self, batch: list[Event], pending: list[Pending]) -> list[Record]:
        if not pending:
            return []
        schedule = Schedule(self.checkpoint_every, self.checkpoint_seconds, self._clock())
        ts = utc_now()
        written = self._write(pending, ts, schedule)  # links were checked by ``_prepare``
        records = [
            Record(
                written.first_seq + i,
                p.id,
                ts,
                p.kind,
                p.session_id,
                e.links,
                p.body_json,
                written.hashes[i - 1] if i else written.first_prev,
                written.hashes[i],
            )
            for i, (e, p) in enumerate(zip(batch, pending, strict=True))
        ]
        self._remember(records)
        if written.checkpoint_due:
            self._checkpoint_after_append()
        return records

    async def aappend_many(self, events: Iterable[Event]) -> list[Record]:
        """``append_many`` for the event loop: here in a worker thread; a log with a writer of
        its own (the gateway's group commit) answers without one."""
        return await asyncio.to_thread(self.append_many, list(events))

    def _write(self, pending: list[Pending], ts: str, schedule: Schedule) -> Written:
        """One transaction on a driver connection; one that failed is discarded."""
        try:
            with self._lent.borrow() as conn:
                return self._writer.write(conn.driver_connection, pending, ts, schedule)
        except self._driver_errors as exc:
            raise AuditError(f"cannot append to the audit log: {exc}") from exc

    def _checkpoint_after_append(self) -> None:
        """Sign the head once a checkpoint is due, if it is still due (not signed meanwhile).
        The records are already committed: a store error here is logged, not raised, and the
        next append finds the checkpoint still due."""
        try:
            self.checkpoint(if_due=True)
        except AuditError as exc:
            log.warning("audit checkpoint postponed: %s", exc)

    def _check_links(self, events: list[Event]) -> None:
        """Refuse links to records that are not in the log: verification reports those as
        tampering. Links to this batch and to records this process wrote cost no query.
        Records are never deleted, so a link checked here stays good until the write."""
        ids = {e.id for e in events}
        earlier: set[str] = set()
        for e in events:
            forward = [link for link in e.links if link in ids and link not in earlier]
            if forward:
                raise AuditError(f"cannot append: {e.id} links to {forward[0]}, which follows it")
            earlier.add(e.id)
        with self._recent_lock:
            unknown = {
                link
                for e in events
                for link in e.links
                if link not in ids and link not in self._recent
            }
        if not unknown:
            return
        with self.engine.connect() as conn:
            found = set(
                conn.execute(
                    select(audit_records.c.id).where(audit_records.c.id.in_(sorted(unknown)))
                ).scalars()
            )
        if unknown - found:
            raise AuditError(
                f"cannot append: links to {', '.join(sorted(unknown - found))}, "
                "not a record in the audit log"
            )

    def _remember(self, records: list[Record]) -> None:
        with self._recent_lock:
            for r in records:
                self._recent[r.id] = None
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)

    def checkpoint(self, *, if_due: bool = False) -> Checkpoint | None:
        """Sign the current head now, unless it is already signed or the log is empty (see
        ``_checkpoints.sign_checkpoint``: the Merkle root is computed outside the head's lock).
        ``if_due``: only if a checkpoint is due by the log's schedule when the head is read
        (a due found by an append may have been signed meanwhile, here or elsewhere)."""
        if self.signer is None:
            raise AuditError("this audit log was opened read-only (no signing key)")
        try:
            return sign_checkpoint(
                self.engine,
                self.signer,
                self._clock,
                every=self.checkpoint_every if if_due else None,
                seconds=self.checkpoint_seconds if if_due else None,
            )
        except SQLAlchemyError as exc:
            raise AuditError(f"cannot checkpoint the audit log: {exc}") from exc

    def close(self) -> None:
        """Sign the head if it moved since the last checkpoint, and release connections."""
        try:
            if self.signer is not None:
                self.checkpoint()
        finally:
            self._lent.close()
            self._writer.close()
            self.engine.dispose()

    # -- reading ----------------------------------------------------------------------------

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last record as the head table says: (0, genesis) when empty."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).one()
        return int(row.seq), str(row.hash)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_records)).scalar_one())

    def records(
        self, *, session_id: str | None = None, after_seq: int = 0, batch: int = 5000
    ) -> Iterator[Record]:
        """Records in chain order, streamed; only ``session_id``'s if given."""
        query = select(*_RECORD_COLUMNS).where(audit_records.c.seq > after_seq)
        if session_id is not None:
            query = query.where(audit_records.c.session_id == session_id)
        with self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(
                query.order_by(audit_records.c.seq)
            )
            for row in result:
                yield _record(row)

    def get(self, record_id: str) -> Record | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(*_RECORD_COLUMNS).where(audit_records.c.id == record_id)
            ).first()
        return None if row is None else _record(row)

    def checkpoints(self) -> list[Checkpoint]:
        return read_checkpoints(self.engine)
