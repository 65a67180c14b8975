"""The append-only, hash-chained audit log.

Appending is one transaction: lock the chain head (``SELECT ... FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite), number the new records after it, chain their hashes, insert
them, sign a checkpoint if one is due, move the head, commit. Concurrent writers, in any number
of processes, therefore queue on the head: no fork, no gap, no duplicate sequence number. A
writer that dies mid-transaction leaves nothing behind; one that committed lost nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from proctor.audit._canonical import canonical_json, record_hash
from proctor.audit._errors import AuditError
from proctor.audit._events import Event
from proctor.audit._keys import Signer
from proctor.audit._settings import AuditSettings
from proctor.store import (
    audit_checkpoints,
    audit_head,
    audit_records,
    create_store_engine,
    migrate,
)
from proctor.store._engine import WRITE

_RECENT = 100_000  # ids remembered to check links without a query


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signature over (seq, head hash) by the key ``key_id``."""

    seq: int
    head_hash: str
    ts: str
    key_id: str
    public_key: str
    signature: str


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


_LOCK_HEAD = (
    select(
        audit_head.c.seq, audit_head.c.hash, audit_head.c.checkpoint_seq, audit_head.c.checkpoint_at
    )
    .where(audit_head.c.id == 1)
    .with_for_update()
)
_INSERT_RECORDS = insert(audit_records)
_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(
        seq=bindparam("new_seq"),
        hash=bindparam("new_hash"),
        checkpoint_seq=bindparam("cp_seq"),
        checkpoint_at=bindparam("cp_at"),
    )
)


def _record(row: Sequence[Any]) -> Record:
    seq, rid, ts, kind, session, links, body, prev, digest = row
    return Record(int(seq), rid, ts, kind, session, tuple(json.loads(links)), body, prev, digest)


class AuditLog:
    """Appends events to the chain and reads it back. Thread-safe; one per process is enough.
    With ``signer`` None the log is for reading: an append that is due a checkpoint fails."""

    def __init__(
        self,
        engine: Engine,
        signer: Signer | None,
        *,
        checkpoint_every: int = 1000,
        checkpoint_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self._clock = clock
        self._recent: OrderedDict[str, None] = OrderedDict()  # ids this process appended
        self._recent_lock = threading.Lock()

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
        Raises ``AuditError`` if the store refuses."""
        prepared = [
            (e, canonical_json(dict(e.body)), canonical_json(list(e.links))) for e in events
        ]
        if not prepared:
            return []
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE: True})
                with conn.begin():
                    records = self._append(conn, prepared)
        except SQLAlchemyError as exc:
            raise AuditError(f"cannot append to the audit log: {exc}") from exc
        self._remember(records)
        return records

    def _check_links(self, conn: Connection, events: list[Event]) -> None:
        """Refuse links to records that are not in the log: verification reports those as
        tampering. Links to this batch and to records this process wrote cost no query."""
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

    def _append(self, conn: Connection, prepared: list[tuple[Event, str, str]]) -> list[Record]:
        head = conn.execute(_LOCK_HEAD).one()
        self._check_links(conn, [e for e, _, _ in prepared])
        seq, prev = int(head.seq), str(head.hash)
        ts = utc_now()
        rows: list[dict[str, Any]] = []
        records: list[Record] = []
        for event, body, links in prepared:
            seq += 1
            kind = str(event.kind)
            digest = record_hash(seq, event.id, ts, kind, event.session_id, links, body, prev)
            rows.append(
                {
                    "seq": seq,
                    "id": event.id,
                    "ts": ts,
                    "kind": kind,
                    "session_id": event.session_id,
                    "links": links,
                    "body": body,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            records.append(
                Record(
                    seq,
                    event.id,
                    ts,
                    kind,
                    event.session_id,
                    event.links,
                    body,
                    prev,
                    digest,
                )
            )
            prev = digest
        conn.execute(_INSERT_RECORDS, rows)
        cp_seq, cp_at = int(head.checkpoint_seq), float(head.checkpoint_at)
        now = self._clock()
        if cp_at == 0.0:  # the first append starts the clock
            cp_at = now
        if seq - cp_seq >= self.checkpoint_every or now - cp_at >= self.checkpoint_seconds:
            self._sign(conn, seq, prev)
            cp_seq, cp_at = seq, now
        conn.execute(
            _MOVE_HEAD, {"new_seq": seq, "new_hash": prev, "cp_seq": cp_seq, "cp_at": cp_at}
        )
        return records

    def _sign(self, conn: Connection, seq: int, head_hash: str) -> Checkpoint:
        if self.signer is None:
            raise AuditError("this audit log was opened read-only (no signing key)")
        cp = Checkpoint(
            seq,
            head_hash,
            utc_now(),
            self.signer.key_id,
            self.signer.public_hex,
            self.signer.sign(seq, head_hash),
        )
        conn.execute(
            insert(audit_checkpoints).values(
                seq=cp.seq,
                head_hash=cp.head_hash,
                ts=cp.ts,
                key_id=cp.key_id,
                public_key=cp.public_key,
                signature=cp.signature,
            )
        )
        return cp

    def checkpoint(self) -> Checkpoint | None:
        """Sign the current head now, unless it is already signed or the log is empty."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE: True})
                with conn.begin():
                    head = conn.execute(
                        select(audit_head.c.seq, audit_head.c.hash, audit_head.c.checkpoint_seq)
                        .where(audit_head.c.id == 1)
                        .with_for_update()
                    ).one()
                    if int(head.seq) == 0 or int(head.seq) == int(head.checkpoint_seq):
                        return None
                    cp = self._sign(conn, int(head.seq), str(head.hash))
                    conn.execute(
                        update(audit_head)
                        .where(audit_head.c.id == 1)
                        .values(checkpoint_seq=cp.seq, checkpoint_at=self._clock())
                    )
                    return cp
        except SQLAlchemyError as exc:
            raise AuditError(f"cannot checkpoint the audit log: {exc}") from exc

    def close(self) -> None:
        """Sign the head if it moved since the last checkpoint, and release connections."""
        try:
            if self.signer is not None:
                self.checkpoint()
        finally:
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


def read_checkpoints(engine: Engine) -> list[Checkpoint]:
    """Every signed checkpoint, in sequence order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                audit_checkpoints.c.seq,
                audit_checkpoints.c.head_hash,
                audit_checkpoints.c.ts,
                audit_checkpoints.c.key_id,
                audit_checkpoints.c.public_key,
                audit_checkpoints.c.signature,
            ).order_by(audit_checkpoints.c.seq)
        ).all()
    return [Checkpoint(int(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]
