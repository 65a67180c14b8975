"""The append path: the text PostgreSQL hashes is the text verification hashes, a lost
connection fails the append and the next one reconnects, threads share one chain."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.audit import AuditError, Event, EventKind, Signer, canonical_json, record_hash, verify
from proctor.audit._canonical import record_text_parts

from .conftest import SEED, events_for

# Text PostgreSQL can store: no NUL, no lone surrogate.
pg_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


@given(
    seq=st.integers(1, 2**62),
    rid=pg_text,
    ts=pg_text,
    kind=pg_text,
    session=st.none() | pg_text,
    links=st.lists(pg_text, max_size=3),
    body=st.dictionaries(pg_text, pg_text, max_size=4),
    prev=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_the_parts_joined_around_prev_and_seq_are_the_hashed_text(
    seq, rid, ts, kind, session, links, body, prev
):
    links_json, body_json = canonical_json(links), canonical_json(body)
    before, after = record_text_parts(rid, ts, kind, session, links_json, body_json)
    text = before + prev + '","seq":' + str(seq) + after
    expected = record_hash(seq, rid, ts, kind, session, links_json, body_json, prev)
    assert hashlib.sha256(text.encode()).hexdigest() == expected


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.lists(
        st.tuples(pg_text, pg_text, st.none() | pg_text, st.dictionaries(pg_text, pg_text)),
        min_size=1,
        max_size=4,
    )
)
def test_whatever_the_text_postgres_chains_what_verification_recomputes(pg_url, make_log, batch):
    log = make_log(pg_url)
    records = log.append_many(
        [
            Event(kind or "k", body, session, (), f"rec_{uuid.uuid4().hex}_{rid}")
            for i, (rid, kind, session, body) in enumerate(batch)
        ]
    )
    for r in records:
        assert r.hash == record_hash(
            r.seq, r.id, r.ts, r.kind, r.session_id, "[]", canonical_json(r.body), r.prev_hash
        )
    assert [r.hash for r in log.records(after_seq=records[0].seq - 1)] == [r.hash for r in records]
    assert verify(log.engine, [Signer.from_seed(SEED).public_key]).ok


def test_a_lost_postgres_connection_fails_the_append_and_the_next_reconnects(pg_url, make_log):
    log = make_log(pg_url)
    log.append(events_for(1)[0])
    with log._lent.borrow() as conn:  # the connection appends use
        pid = conn.driver_connection.info.backend_pid
    with log.engine.connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(AuditError, match="cannot append to the audit log"):
        log.append(events_for(1)[0])
    log.append(events_for(1)[0])
    assert [r.seq for r in log.records()] == [1, 2]
    assert verify(log.engine, [Signer.from_seed(SEED).public_key]).ok


def test_threads_of_one_process_append_to_one_chain(db_url, make_log):
    log = make_log(db_url, checkpoint_every=20)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for n in range(40):
                log.append(Event(EventKind.DECISION, {"t": t, "n": n}, f"ses_{t}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    records = list(log.records())
    assert [r.seq for r in records] == list(range(1, 321))
    for t in range(8):
        assert [r.body["n"] for r in records if r.body["t"] == t] == list(range(40))
    report = verify(log.engine, [Signer.from_seed(SEED).public_key])
    assert report.ok, report.problems[:3]
    assert report.checkpoints >= 1


def test_short_lived_threads_do_not_exhaust_the_connection_pool(db_url, make_log):
    log = make_log(db_url)  # the pool holds 15 connections at most
    for n in range(40):  # as asyncio.run's executor threads do: one append, then gone
        t = threading.Thread(target=log.append, args=(Event(EventKind.DECISION, {"n": n}),))
        t.start()
        t.join(timeout=30)
        assert not t.is_alive(), f"append {n} is stuck waiting for a connection"
    assert log.count() == 40


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> threading.Thread:
    """Another connection (another process, as far as SQLite can tell) holds the write lock."""

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    t = threading.Thread(target=hold)
    t.start()
    held.wait(5)
    return t


def test_an_append_waits_for_another_writers_lock_then_commits(tmp_path, make_log):
    path = str(tmp_path / "a.db")
    log = make_log(f"sqlite:///{path}")
    log.append(events_for(1)[0])  # the lent connection exists (and polls for the lock)
    held = threading.Event()
    t = _hold_write_lock(path, 0.2, held)
    log.append(events_for(1)[0])
    t.join()
    assert [r.seq for r in log.records()] == [1, 2]


def test_an_append_gives_up_after_the_busy_timeout(tmp_path, make_log, monkeypatch):
    path = str(tmp_path / "a.db")
    log = make_log(f"sqlite:///{path}")
    log.append(events_for(1)[0])
    monkeypatch.setattr(log._writer, "_timeout_ms", 50)
    held = threading.Event()
    t = _hold_write_lock(path, 0.5, held)
    with pytest.raises(AuditError, match="locked"):
        log.append(events_for(1)[0])
    t.join()
    assert [r.seq for r in log.records()] == [1]


def test_connections_go_back_to_the_pool_with_their_busy_timeout(tmp_path, make_log):
    log = make_log(f"sqlite:///{tmp_path / 'a.db'}")
    log.append(events_for(1)[0])
    log._lent.close()  # as when the log moves to another engine
    pooled = [log.engine.raw_connection() for _ in range(log.engine.pool.checkedin())]
    assert pooled  # the lent connection is among them
    for conn in pooled:
        assert conn.driver_connection.execute("PRAGMA busy_timeout").fetchone() == (30_000,)
        conn.close()


def _is_write_locked(path: str) -> bool:
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        other.close()


def test_an_append_returns_after_flushing_the_wal_outside_the_write_lock(
    tmp_path, make_log, monkeypatch
):
    """The durability of synchronous=FULL, with the fsync after the lock's release: the append
    returns once the WAL is flushed, and the flush comes after the commit, not inside it."""
    path = str(tmp_path / "a.db")
    log = make_log(f"sqlite:///{path}")
    seen: list[tuple[str, bool, int]] = []
    real = log._writer._sync

    def sync(wal: str) -> None:
        with sqlite3.connect(path) as reader:  # committed: another connection reads it
            (count,) = reader.execute("SELECT count(*) FROM proctor_audit_records").fetchone()
        seen.append((wal, _is_write_locked(path), count))
        real(wal)

    monkeypatch.setattr(log._writer, "_sync", sync)
    log.append_many(events_for(3))
    log.append(events_for(1)[0])
    wal = str((tmp_path / "a.db-wal").resolve())
    assert seen == [(wal, False, 3), (wal, False, 4)]
    with log._lent.borrow() as conn:  # the lent connection leaves the fsync to the writer
        assert conn.driver_connection.execute("PRAGMA synchronous").fetchone() == (1,)
    log._lent.close()
    for conn in [log.engine.raw_connection() for _ in range(log.engine.pool.checkedin())]:
        assert conn.driver_connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        conn.close()


def test_a_failed_flush_fails_the_append(tmp_path, make_log, monkeypatch):
    log = make_log(f"sqlite:///{tmp_path / 'a.db'}")
    log.append(events_for(1)[0])

    def broken(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("proctor.audit._writer.os.fdatasync", broken)
    with pytest.raises(AuditError, match="cannot flush the write-ahead log"):
        log.append(events_for(1)[0])
    monkeypatch.undo()
    log.append(events_for(1)[0])  # a new connection, flushed again
    assert verify(log.engine, [Signer.from_seed(SEED).public_key]).ok


def test_a_store_set_below_full_is_not_flushed_by_the_writer(tmp_path, monkeypatch):
    from proctor.audit import AuditLog, AuditSettings
    from proctor.store import StoreSettings

    calls: list[str] = []
    monkeypatch.setattr("proctor.audit._writer.SqliteWriter._sync", staticmethod(calls.append))
    store = StoreSettings(
        database_url=f"sqlite:///{tmp_path / 'a.db'}", sqlite_synchronous="NORMAL"
    )
    log = AuditLog.open(AuditSettings(store=store, signing_key=SEED))
    try:
        log.append(events_for(1)[0])
        with log._lent.borrow() as conn:
            assert conn.driver_connection.execute("PRAGMA synchronous").fetchone() == (1,)
    finally:
        log.close()
    assert calls == []


def test_the_wal_is_checkpointed_beside_the_appends_not_in_their_commits(
    tmp_path, make_log, monkeypatch
):
    """The writer's connections do not checkpoint in their commits (a commit that did took up
    to 28 ms more); a thread of the writer's does, once every ``every`` records."""
    path = str(tmp_path / "a.db")
    log = make_log(f"sqlite:///{path}")
    log.append(events_for(1)[0])
    backfill = log._writer._backfill
    assert backfill is not None
    assert backfill.path == str((tmp_path / "a.db").resolve())
    done = threading.Event()
    threads: list[str] = []
    real = backfill.checkpoint

    def checkpoint(conn: sqlite3.Connection) -> None:
        threads.append(threading.current_thread().name)
        real(conn)
        done.set()

    monkeypatch.setattr(backfill, "checkpoint", checkpoint)
    monkeypatch.setattr(backfill, "every", 10)
    with log._lent.borrow() as conn:
        assert conn.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    log.append_many(events_for(9))
    assert threads == []  # 9 records since the count started: not yet
    log.append_many(events_for(1))
    assert done.wait(30)
    assert threads == ["proctor-audit-wal-checkpoint"]
    log._lent.close()  # the connections go back to the pool checkpointing as SQLite does
    pooled = [log.engine.raw_connection() for _ in range(log.engine.pool.checkedin())]
    assert pooled
    for conn in pooled:
        assert conn.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
        conn.close()
    log.close()
    assert not any(t.name == "proctor-audit-wal-checkpoint" for t in threading.enumerate())


@pytest.mark.parametrize("sizes", [[1, 31, 32, 33], [100, 64, 65]])
def test_groups_of_any_size_are_inserted_in_order_and_chain(db_url, make_log, sizes):
    """SQLite inserts a group in statements of up to 32 rows: every size lands whole, in order."""
    log = make_log(db_url)
    for size in sizes:
        log.append_many([Event(EventKind.DECISION, {"size": size, "n": i}) for i in range(size)])
    got = [(r.body["size"], r.body["n"]) for r in log.records()]
    assert got == [(size, i) for size in sizes for i in range(size)]
    assert verify(log.engine, [Signer.from_seed(SEED).public_key]).ok
