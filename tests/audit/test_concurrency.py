"""Several writer processes make one chain; a writer killed mid-stream loses nothing committed."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from typing import Any

import pytest

from proctor.audit import AuditLog, AuditSettings, Event, EventKind, Signer, verify
from proctor.store import StoreSettings

from .conftest import SEED

WRITERS = 4
UNITS = 150  # per writer; every 10th unit is a batch of 3 records


def _writer(url: str, worker: int, ready: Any, start: Any) -> None:
    log = AuditLog.open(
        AuditSettings(store=StoreSettings(database_url=url), signing_key=SEED, checkpoint_every=25)
    )
    ready.release()
    start.wait()
    n = 0
    for unit in range(UNITS):
        if unit % 10 == 0:
            batch = []
            for _ in range(3):
                batch.append(Event(EventKind.DECISION, {"w": worker, "n": n}, f"ses_w{worker}"))
                n += 1
            log.append_many(batch)
        else:
            log.append(Event(EventKind.DECISION, {"w": worker, "n": n}, f"ses_w{worker}"))
            n += 1
        if unit % 5 == 4:  # an append takes ~0.1 ms: pause so that the others get a turn
            time.sleep(0.002)
    log.engine.dispose()


def test_four_processes_appending_at_once_make_one_valid_chain(db_url, make_log):
    log = make_log(db_url)
    ctx = multiprocessing.get_context("spawn")
    ready, start = ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=_writer, args=(db_url, w, ready, start)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for _ in procs:  # every writer connected and migrated: now all go at once
        assert ready.acquire(timeout=120)
    start.set()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * WRITERS

    per_writer = UNITS + 2 * (UNITS // 10)
    records = list(log.records())
    assert [r.seq for r in records] == list(range(1, WRITERS * per_writer + 1))  # no gap, no dup
    assert len({r.id for r in records}) == len(records)
    order: dict[int, list[int]] = defaultdict(list)
    for r in records:
        order[r.body["w"]].append(r.body["n"])
    assert {w: ns for w, ns in order.items()} == {
        w: list(range(per_writer)) for w in range(WRITERS)
    }  # each writer's records, complete and in its own order
    switches = sum(1 for a, b in itertools.pairwise(records) if a.body["w"] != b.body["w"])
    assert switches > WRITERS, "the writers did not actually interleave"
    report = verify(log.engine, [Signer.from_seed(SEED).public_key])
    assert report.ok, report.problems[:3]
    assert report.checkpoints >= len(records) // 25 - WRITERS


CHILD = textwrap.dedent(
    """
    import sys
    from proctor.audit import AuditLog, AuditSettings, Event, EventKind
    from proctor.store import StoreSettings

    log = AuditLog.open(AuditSettings(
        store=StoreSettings(database_url=sys.argv[1]), signing_key=sys.argv[2],
        checkpoint_every=20))
    n = 0
    while True:
        size = 1 if n % 7 else 4
        records = log.append_many(
            [Event(EventKind.DECISION, {"n": n + i}, "ses_crash") for i in range(size)])
        n += size
        print("ack", " ".join(r.id for r in records), flush=True)
    """
)


def test_a_writer_killed_mid_stream_loses_no_committed_record(db_url, make_log):
    log = make_log(db_url)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, SEED],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    acked: list[str] = []
    for line in child.stdout:
        acked += line.split()[1:]
        if len(acked) >= 300:
            child.send_signal(signal.SIGKILL)
            break
    acked += [i for line in child.stdout for i in line.split()[1:]]  # written before death
    assert child.wait(timeout=30) == -signal.SIGKILL

    stored = {r.id for r in log.records()}
    assert set(acked) <= stored, "a committed, acknowledged record is missing"
    assert len(stored) >= len(acked)
    report = verify(log.engine, [Signer.from_seed(SEED).public_key])
    assert report.ok, report.problems[:3]
    # the log is still writable after the crash, and the chain continues
    log.append(Event(EventKind.ALERT, {"alert": "writer_crashed"}))
    assert verify(log.engine, [Signer.from_seed(SEED).public_key]).ok


@pytest.mark.parametrize("batch", [1, 50])
def test_sequence_numbers_survive_many_small_transactions(sqlite_url, make_log, batch):
    log = make_log(sqlite_url, checkpoint_every=7)
    for i in range(0, 200, batch):
        log.append_many([Event(EventKind.DECISION, {"n": i + j}) for j in range(batch)])
    assert [r.body["n"] for r in log.records()] == list(range(200))
    assert verify(log.engine, [Signer.from_seed(SEED).public_key]).ok
