"""Appending to the chain through the database driver, in as few round trips as the database
allows: the append path is what every gated action waits for.

Both writers do the same thing in one transaction: lock the chain head, number the records after
it, chain their hashes, insert them, move the head. They differ in where it runs:

- SQLite: in this process, with ``BEGIN IMMEDIATE`` (the database's write lock, taken before the
  head is read) and prepared statements of the driver. As on PostgreSQL, the commit does not
  wait for the disk inside the lock: the writer's connection commits with ``synchronous=NORMAL``
  (in WAL mode: the commit appends to the WAL, no fsync), and the writer then flushes the WAL
  (``fdatasync``) after the lock is released and before it returns. The caller hears of
  success only once the WAL holds its records on disk, as with ``synchronous=FULL``; the lock
  is held for the inserts only (about 0.1 ms, where the fsync took 0.3 to 4 ms), and the other
  processes' appends commit during this one's flush (and share it). See ``SqliteWriter``.
- PostgreSQL: in the server, as one call of the procedure ``proctor_audit_append`` (migration
  ``0002_audit_append``). The head row is locked for the time the server takes to insert, not
  for round trips to this process nor for the disk: the append commits without waiting for the
  WAL flush, and the procedure then waits for the flush in a second transaction, outside the
  lock, before it returns. The caller hears of success only once the records are durable;
  writers waiting at once share one flush.

The caller builds each record's canonical text (``record_text_parts``); the writer only adds the
values that depend on the head: the previous hash and the sequence number.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proctor.audit._canonical import record_hash, record_text_parts
from proctor.audit._due import DueThread

log = logging.getLogger("proctor.audit")


@dataclass(frozen=True, slots=True)
class Pending:
    """One record to append, encoded: ``links_json`` and ``body_json`` are canonical JSON."""

    id: str
    kind: str
    session_id: str | None
    links_json: str
    body_json: str


@dataclass(frozen=True, slots=True)
class Written:
    """Where the records landed: the first sequence number, the hash before it, each record's
    hash in order, and whether a signed checkpoint is due."""

    first_seq: int
    first_prev: str
    hashes: tuple[str, ...]
    checkpoint_due: bool


@dataclass(frozen=True, slots=True)
class Schedule:
    """When checkpoints are due: every ``every`` records or ``seconds`` after the last one;
    ``now`` is the caller's clock."""

    every: int
    seconds: float
    now: float


class ChainWriter(ABC):
    """Appends records in one transaction on a driver connection it is lent."""

    @abstractmethod
    def write(
        self, driver: Any, records: Sequence[Pending], ts: str, schedule: Schedule
    ) -> Written: ...

    def adopt(self, driver: Any) -> None:
        """Prepare a driver connection before its first append (it is lent to appends only)."""
        return None

    def release(self, driver: Any) -> None:
        """Undo ``adopt`` before the connection goes back to the engine's pool."""
        return None

    def close(self) -> None:
        """Stop what the writer runs beside the appends (once its connections are released)."""
        return None


@functools.lru_cache(maxsize=64)
def _values(insert: str, rows: int) -> str:
    """``insert`` followed by ``rows`` rows of nine placeholders."""
    return insert + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)


def _due(seq: int, cp_seq: int, cp_at: float, schedule: Schedule) -> bool:
    return seq - cp_seq >= schedule.every or schedule.now - cp_at >= schedule.seconds


class WalCheckpointer:
    """Copies the WAL into the database file (``PRAGMA wal_checkpoint(PASSIVE)``) from a thread
    and a connection of its own, once every ``every`` records appended.

    SQLite's automatic checkpoint runs in the connection whose commit took the WAL past 1,000
    pages, inside that ``COMMIT`` call: about one group in a hundred then took 4 to 28 ms more
    (copying pages and syncing the database file), and every append waiting behind it waited
    too. The audit writer's connections turn it off (``wal_autocheckpoint=0``) and count
    records here instead. A passive checkpoint waits for no lock and copies what no reader
    still needs; what it leaves, the next one copies. Other connections to the file keep
    SQLite's automatic checkpoint, so the WAL never grows without bound if this thread lags."""

    def __init__(self, path: str, every: int = 1000) -> None:
        self.path = path
        self.every = every
        self._lock = threading.Lock()
        self._count = 0
        self._conn: sqlite3.Connection | None = None  # the thread's own, opened at its first run
        self._thread = DueThread("proctor-audit-wal-checkpoint", self._copy)

    def wrote(self, records: int) -> None:
        """Count appended records; wake the thread when a checkpoint is due."""
        with self._lock:
            self._count += records
            if self._count < self.every:
                return
            self._count = 0
        self._thread.due()

    def _copy(self) -> None:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self.path, timeout=0, isolation_level=None, check_same_thread=False
                )
            self.checkpoint(self._conn)
        except sqlite3.Error as exc:  # the next one, or SQLite's own, copies it
            log.warning("WAL checkpoint of %s postponed: %s", self.path, exc)

    @staticmethod
    def checkpoint(conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self._thread.close()
        conn, self._conn = self._conn, None  # the thread has ended: nothing else uses it
        if conn is not None:
            conn.close()


class SqliteWriter(ChainWriter):
    """``BEGIN IMMEDIATE`` waits for the write lock by polling every 0.1 to 2 ms, not through
    SQLite's busy handler, whose sleeps grow to 100 ms (the tail latency of every append when
    two processes write). It waits as long as the connection's busy timeout would have.

    Durability: with the store's ``synchronous`` at FULL (the default) or EXTRA and the database
    in WAL mode, an adopted connection commits with ``synchronous=NORMAL`` and ``write`` calls
    ``fdatasync`` on the WAL file after ``COMMIT``, outside the lock, before it returns. That
    is the sync FULL makes inside the commit, moved after the lock's release: a commit in WAL
    mode appends the transaction's frames (the last one marked as a commit) to the WAL file,
    and a flush of that file makes every frame written before it durable, this transaction's
    and any other process's. Recovery replays the WAL up to its first invalid frame (the
    frames' checksums are cumulative), so what survives a power loss is a prefix of the chain,
    and every append that returned is in it. A process crash loses nothing either way (the
    frames are in the operating system's cache). A failed flush fails the append (the caller
    refuses the action), although its records may stay in the log, as when PostgreSQL's flush
    fails. Other connections to the file keep the store's setting. A store set to NORMAL or
    OFF is left as it is (no flush).

    Checkpoints of the WAL into the database file are made beside the appends, not in their
    commits (``WalCheckpointer``)."""

    _HEAD = "SELECT seq, hash, checkpoint_seq, checkpoint_at FROM proctor_audit_head WHERE id = 1"
    _INSERT = (
        "INSERT INTO proctor_audit_records "
        "(seq, id, ts, kind, session_id, links, body, prev_hash, hash) VALUES "
    )
    _ROWS = 32  # records per INSERT statement, at most
    _MOVE = "UPDATE proctor_audit_head SET seq = ?, hash = ?, checkpoint_at = ? WHERE id = 1"

    def __init__(self) -> None:
        # the driver's settings, read by ``adopt`` (every connection lent is to one database,
        # opened by one engine: they have the same)
        self._timeout_ms = 30_000
        self._synchronous = 2  # FULL
        self._wal: str | None = None  # the WAL file ``write`` flushes; None: SQLite syncs
        self._autocheckpoint = 1000
        self._backfill: WalCheckpointer | None = None  # None: not a WAL file

    def adopt(self, driver: Any) -> None:
        (self._timeout_ms,) = driver.execute("PRAGMA busy_timeout").fetchone()
        driver.execute("PRAGMA busy_timeout = 0")  # busy: an error at once, polled in _begin
        (self._synchronous,) = driver.execute("PRAGMA synchronous").fetchone()
        (mode,) = driver.execute("PRAGMA journal_mode").fetchone()
        path = next((r[2] for r in driver.execute("PRAGMA database_list") if r[1] == "main"), "")
        self._wal = None
        if str(mode).lower() != "wal" or not path:
            return
        if self._synchronous >= 2:  # FULL or EXTRA
            self._wal = path + "-wal"
            driver.execute("PRAGMA synchronous = NORMAL")  # the flush is ours: after the lock
        (self._autocheckpoint,) = driver.execute("PRAGMA wal_autocheckpoint").fetchone()
        driver.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's thread does it
        if self._backfill is None:
            self._backfill = WalCheckpointer(path)

    def release(self, driver: Any) -> None:
        driver.execute(f"PRAGMA busy_timeout = {int(self._timeout_ms)}")
        driver.execute(f"PRAGMA synchronous = {int(self._synchronous)}")
        driver.execute(f"PRAGMA wal_autocheckpoint = {int(self._autocheckpoint)}")

    def close(self) -> None:
        backfill, self._backfill = self._backfill, None
        if backfill is not None:
            backfill.close()

    @staticmethod
    def _sync(wal: str) -> None:
        """Flush the WAL file to disk (its data, and its size if it grew). Opened by its name
        each time: the flush never goes to a file SQLite has since replaced."""
        try:
            fd = os.open(wal, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # a driver error: the append fails, the connection is dropped
            raise sqlite3.OperationalError(
                f"cannot flush the write-ahead log {wal}: {exc}"
            ) from exc

    def _begin(self, cur: Any) -> None:
        delay, deadline = 0.0001, 0.0
        while True:
            try:
                cur.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # extended codes too
                    raise
                now = time.monotonic()
                if not deadline:
                    deadline = now + self._timeout_ms / 1000
                elif now >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.002)

    @classmethod
    def _insert(cls, cur: Any, parts: list[tuple[Any, ...]]) -> None:
        """Insert the rows (each given as two tuples of columns) in statements of up to
        ``_ROWS`` rows: each statement is one step of SQLite, so this thread, which gives the
        GIL up for every step and then waits to get it back, waits a few times per group, not
        once per record, while it holds the write lock."""
        per = 2 * cls._ROWS
        for at in range(0, len(parts), per):
            chunk = parts[at : at + per]
            params = [value for part in chunk for value in part]
            cur.execute(_values(cls._INSERT, len(chunk) // 2), params)

    def write(
        self, driver: Any, records: Sequence[Pending], ts: str, schedule: Schedule
    ) -> Written:
        cur = driver.cursor()
        try:
            self._begin(cur)
            try:
                seq, head_hash, cp_seq, cp_at = cur.execute(self._HEAD).fetchone()
                first_prev = prev = str(head_hash)
                rows: list[tuple[Any, ...]] = []
                hashes = []
                for r in records:
                    seq += 1
                    digest = record_hash(
                        seq, r.id, ts, r.kind, r.session_id, r.links_json, r.body_json, prev
                    )
                    rows.append((seq, r.id, ts, r.kind, r.session_id, r.links_json, r.body_json))
                    rows.append((prev, digest))
                    hashes.append(digest)
                    prev = digest
                self._insert(cur, rows)
                cp_at = schedule.now if cp_at == 0.0 else float(cp_at)  # the first starts it
                cur.execute(self._MOVE, (seq, prev, cp_at))
                cur.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:
                    cur.execute("ROLLBACK")
                raise
        finally:
            cur.close()
        if self._wal is not None:
            self._sync(self._wal)  # outside the lock; a failure fails the append
        if self._backfill is not None:
            self._backfill.wrote(len(records))
        first = seq - len(records) + 1
        return Written(first, first_prev, tuple(hashes), _due(seq, int(cp_seq), cp_at, schedule))


class PostgresWriter(ChainWriter):
    _CALL = "CALL proctor_audit_append(%b, %b, %b, %b, %b)"

    def write(
        self, driver: Any, records: Sequence[Pending], ts: str, schedule: Schedule
    ) -> Written:
        fields: list[str | None] = []
        for r in records:
            b, a = record_text_parts(r.id, ts, r.kind, r.session_id, r.links_json, r.body_json)
            fields += (r.id, r.kind, r.session_id, r.links_json, r.body_json, b, a)
        params = (fields, ts, schedule.now, schedule.every, schedule.seconds)
        was = driver.autocommit
        driver.autocommit = True  # the procedure commits: it must not run inside a transaction
        try:
            with driver.cursor() as cur:
                cur.execute(self._CALL, params, prepare=True, binary=True)
                first_seq, first_prev, hashes, due = cur.fetchone()
        finally:
            driver.autocommit = was
        return Written(int(first_seq), str(first_prev), tuple(hashes), bool(due))


def writer_for(dialect: str) -> ChainWriter:
    """The writer for a SQLAlchemy dialect name."""
    if dialect == "sqlite":
        return SqliteWriter()
    if dialect == "postgresql":
        return PostgresWriter()
    raise ValueError(f"the audit log supports sqlite and postgresql, not {dialect!r}")
