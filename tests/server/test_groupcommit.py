"""The gateway's group commit: one writer thread commits what the event loop and threads queue;
every caller gets its own records, in its order, once they are committed; a failed transaction
fails every caller in it and records nothing of theirs; the chain verifies."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine

from proctor.audit import AuditError, Event, EventKind, Signer, verify
from proctor.server import GroupCommitLog
from proctor.store import create_store_engine, migrate

SEED = "6f" * 32
KEY = Signer.from_seed(SEED)


@pytest.fixture
def log(db_url: str) -> Iterator[GroupCommitLog]:
    engine = create_store_engine(db_url)
    migrate(engine)
    made = GroupCommitLog(engine, Signer.from_seed(SEED), checkpoint_every=50)
    yield made
    made.close()
    engine.dispose()


def _events(caller: str, n: int) -> list[Event]:
    return [
        Event(EventKind.DECISION, {"caller": caller, "n": i}, f"ses_{caller}") for i in range(n)
    ]


def test_tasks_and_threads_appending_at_once_make_one_valid_chain(log):
    async def tasks() -> list[list[int]]:
        async def one(i: int) -> list[int]:
            got: list[int] = []
            for batch in range(5):
                recs = await log.aappend_many(_events(f"a{i}-{batch}", 1 + batch % 3))
                got += [r.seq for r in recs]
            return got

        return await asyncio.gather(*(one(i) for i in range(40)))

    def thread(i: int) -> list[int]:
        return [r.seq for b in range(5) for r in log.append_many(_events(f"t{i}-{b}", 2))]

    with ThreadPoolExecutor(8) as pool:
        threaded = pool.map(thread, range(8))
        async_seqs = asyncio.run(tasks())
        thread_seqs = list(threaded)
    seqs = [s for got in [*async_seqs, *thread_seqs] for s in got]
    assert len(seqs) == len(set(seqs)) == 40 * (1 + 2 + 3 + 1 + 2) + 8 * 10
    for got in [*async_seqs, *thread_seqs]:  # each caller's records are in its order
        assert got == sorted(got)
    report = verify(log.engine, [KEY.public_key])
    assert report.ok, report


def test_a_caller_gets_its_own_records_back(log):
    async def go() -> None:
        mine = _events("me", 3)
        recs = await log.aappend_many(mine)
        assert [r.id for r in recs] == [e.id for e in mine]

    asyncio.run(go())


def test_a_failed_transaction_fails_every_caller_in_it_and_records_nothing(log, tmp_path):
    good = log.engine
    log.engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}")  # cannot open

    async def go() -> list[BaseException | list[object]]:
        return await asyncio.gather(
            *(log.aappend_many(_events(f"f{i}", 1)) for i in range(10)), return_exceptions=True
        )

    results = asyncio.run(go())
    assert all(isinstance(r, AuditError) for r in results)
    with pytest.raises(AuditError):
        log.append_many(_events("sync", 1))
    log.engine = good
    rec = asyncio.run(log.aappend_many(_events("after", 1)))[0]  # the writer is still there
    report = verify(log.engine, [KEY.public_key])
    assert report.ok
    assert report.last_seq == rec.seq


def test_a_cancelled_caller_does_not_stop_the_writer(log):
    async def go() -> int:
        task = asyncio.ensure_future(log.aappend_many(_events("gone", 1)))
        await asyncio.sleep(0)
        task.cancel()
        recs = await log.aappend_many(_events("next", 2))
        return recs[-1].seq

    last = asyncio.run(go())
    assert verify(log.engine, [KEY.public_key]).last_seq == last


def test_a_bad_batch_fails_alone_and_never_fails_its_group(log):
    async def go() -> list[BaseException | list[object]]:
        good = [log.aappend_many(_events(f"g{i}", 1)) for i in range(20)]
        bad = log.aappend_many([Event(EventKind.ALERT, {"x": float("nan")})])
        return await asyncio.gather(*good[:10], bad, *good[10:], return_exceptions=True)

    results = asyncio.run(go())
    assert isinstance(results[10], ValueError)
    assert all(isinstance(r, list) for i, r in enumerate(results) if i != 10)
    assert verify(log.engine, [KEY.public_key]).last_seq == 20


def test_close_writes_what_is_queued_then_refuses(db_url):
    engine = create_store_engine(db_url)
    migrate(engine)
    log = GroupCommitLog(engine, Signer.from_seed(SEED))
    log.append_many(_events("x", 2))
    log.close()
    with pytest.raises(AuditError, match="closed"):
        log.append_many(_events("y", 1))
    engine.dispose()


def test_a_committed_group_wakes_its_event_loop_once(log, monkeypatch):
    """Every caller of a group gets its records from one wake-up of the loop, not one each."""
    wakeups: list[object] = []

    async def main() -> list[list[int]]:
        loop = asyncio.get_running_loop()
        real = loop.call_soon_threadsafe

        def counted(callback, *args):  # type: ignore[no-untyped-def]
            wakeups.append(callback)
            return real(callback, *args)

        monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
        with log._cond:  # the writer cannot take anything before all 20 are queued
            futures = [
                asyncio.ensure_future(log.aappend_many(_events(f"w{i}", 1))) for i in range(20)
            ]
            await asyncio.sleep(0)  # each task queues its batch
        got = await asyncio.gather(*futures)
        return [[r.seq for r in recs] for recs in got]

    seqs = asyncio.run(main())
    assert sorted(s for got in seqs for s in got) == list(range(1, 21))
    assert len(wakeups) == 1  # one wake-up settled the 20 callers


def test_a_due_checkpoint_is_signed_beside_the_writer_never_in_its_way(log, monkeypatch):
    """Signing waits for the write lock and hashes the records since the last checkpoint: the
    writer hands it to the signer thread and goes on committing groups meanwhile."""
    started, release = threading.Event(), threading.Event()
    real = log.checkpoint

    def slow(**kw: object) -> object:
        started.set()
        assert release.wait(30)
        return real(**kw)

    monkeypatch.setattr(log, "checkpoint", slow)
    log.append_many(_events("due", 50))  # checkpoint_every=50: the next one is due
    assert started.wait(30)
    more = [r.seq for r in log.append_many(_events("while", 20))]  # committed meanwhile
    assert more == list(range(51, 71))
    assert log.checkpoints() == []  # still being signed
    release.set()
    log.close()  # joins the signer, then signs the head as it is now
    cps = log.checkpoints()
    assert [c.seq for c in cps][-1] == 70
    assert cps[0].seq in (50, 70)
    assert verify(log.engine, [KEY.public_key]).ok


def test_close_signs_the_head_with_no_signer_thread_left(db_url):
    engine = create_store_engine(db_url)
    migrate(engine)
    log = GroupCommitLog(engine, Signer.from_seed(SEED), checkpoint_every=5)
    log.append_many(_events("x", 12))
    log.close()
    assert log.checkpoints()[-1].seq == 12
    assert not any(t.name == "proctor-audit-checkpoint" for t in threading.enumerate())
    engine.dispose()
