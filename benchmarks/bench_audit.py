"""Audit log throughput: appends per second on SQLite and PostgreSQL (1 and 4 writers), and
verification speed in records per second over 200,000 records.

Run with ``make bench``. Prints figures; asserts nothing (timings depend on the machine). The
targets on the 2-core development machine: >= 5,000 appends/s on SQLite, >= 3,000/s on
PostgreSQL with 4 writers, verification >= 200,000 records/s.

Every append is a real transaction: lock the chain head, chain the hashes, insert, move the head,
commit (a checkpoint signed every 1,000 records). "single" is one record per transaction, as the
gate's audit hook writes; "batch N" is ``append_many`` with N records per transaction. SQLite
runs with ``synchronous=FULL`` (the default: every commit survives power loss) and ``NORMAL``
(survives a process crash). PostgreSQL runs at its defaults (``synchronous_commit=on``) in a
scratch schema of ``PROCTOR_TEST_POSTGRES_URL`` (default: the local ``test`` database) that is
dropped afterwards. Records look like the gate's decision records (about 900 bytes of body).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from proctor.audit import AuditLog, AuditSettings, Event, Signer, events, verify
from proctor.model import (
    Decision,
    Environment,
    RuleHit,
    Session,
    Step,
    StepResult,
    ToolCall,
    Verdict,
)
from proctor.store import StoreSettings
from proctor.store.testing import fresh_schema, postgres_unreachable

SEED = "be" * 32
CPUS = max(2, os.cpu_count() or 1)
SESSION = Session("refunds-bot", "ticket:T-1", "acme", Environment.PRODUCTION)
DECISION = Decision.combine(
    "payments.refund",
    [
        StepResult.ok(Step.RESOLVE),
        StepResult.ok(
            Step.BOUNDARY, [RuleHit("boundary.autonomy", Verdict.ALLOW, "write <= write")]
        ),
        StepResult.ok(
            Step.LIMITS,
            [
                RuleHit(
                    "refund.over-100", Verdict.HOLD, "Refunds above 100 need a finance approver."
                )
            ],
        ),
        StepResult.ok(Step.FLOW),
        StepResult.ok(Step.RATE),
    ],
    "refunds-bot@production",
)


OPENED = events.session_opened(SESSION)


def event(n: int) -> Event:
    """A decision record of the session, linked to its session.opened record."""
    call = ToolCall("payments.refund", {"order_id": f"O-{n}", "amount": 250.0 + n}, SESSION.id)
    return events.decision(SESSION, call, DECISION, [OPENED.id])


def open_log(store: StoreSettings) -> AuditLog:
    return AuditLog.open(AuditSettings(store=store, signing_key=SEED))


def appends(store: StoreSettings, n: int, batch: int) -> float:
    log = open_log(store)
    log.append(OPENED)
    evs = [event(i) for i in range(n)]
    start = time.perf_counter()
    if batch == 1:
        for e in evs:
            log.append(e)
    else:
        for i in range(0, n, batch):
            log.append_many(evs[i : i + batch])
    elapsed = time.perf_counter() - start
    log.engine.dispose()
    return n / elapsed


def _writer(url: str, n: int, batch: int, ready: Any, go: Any, done: Any) -> None:
    log = open_log(StoreSettings(database_url=url))
    log.append(OPENED)  # each process has its own (module-level, made at import)
    evs = [event(i) for i in range(n)]
    ready.release()
    go.wait()
    for i in range(0, n, batch):
        log.append_many(evs[i : i + batch])
    done.put(time.perf_counter())
    log.engine.dispose()


def parallel_appends(url: str, writers: int, n: int, batch: int) -> float:
    """Total records per second of ``writers`` processes appending ``n`` records each."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, done = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, n, batch, ready, go, done)) for _ in range(writers)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    ends = [done.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    return writers * n / (max(ends) - start)


def fill(store: StoreSettings, n: int) -> AuditLog:
    log = open_log(store)
    log.append(OPENED)
    chunk = [event(i) for i in range(1000)]
    for _ in range(n // 1000 - 1):
        log.append_many([Event(e.kind, e.body, e.session_id, e.links) for e in chunk])
    log.append_many([Event(e.kind, e.body, e.session_id, e.links) for e in chunk[:999]])
    return log


def verification(log: AuditLog, workers: int) -> tuple[float, int]:
    keys = [Signer.from_seed(SEED).public_key]
    verify(log.engine, keys)  # warm the page cache
    start = time.perf_counter()
    report = verify(log.engine, keys, workers=workers)
    elapsed = time.perf_counter() - start
    if not report.ok:
        raise SystemExit(f"verification failed on an untouched log: {report.first}")
    return report.records / elapsed, report.records


def row(label: str, value: float, unit: str, target: str = "") -> None:
    print(f"  {label:<44} {value:>10,.0f} {unit}{'   ' + target if target else ''}")


def main() -> int:
    size = 200_000
    print(f"proctor audit benchmark ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (one file, WAL)")
        for sync in ("FULL", "NORMAL"):
            for batch, n in ((1, 2_000), (10, 20_000), (100, 50_000)):
                store = StoreSettings(
                    sqlite_path=Path(tmp) / f"a-{sync}-{batch}.db", sqlite_synchronous=sync
                )
                label = f"1 writer, {'single' if batch == 1 else f'batch {batch}'}, {sync}"
                row(label, appends(store, n, batch), "appends/s", "(target >= 5,000)")
        log = fill(StoreSettings(sqlite_path=Path(tmp) / "verify.db"), size)
        for workers in (1, CPUS):
            rate, count = verification(log, workers)
            label = f"verify {count:,} records, {workers} process(es)"
            row(label, rate, "records/s", "(target >= 200,000)")
        log.engine.dispose()

    reason = postgres_unreachable()
    if reason is not None:
        print(f"PostgreSQL: skipped ({reason})")
        return 0
    print("PostgreSQL")
    for batch, n in ((1, 2_000), (10, 20_000), (100, 50_000)):
        with fresh_schema(prefix="proctor_bench") as url:
            label = f"1 writer, {'single' if batch == 1 else f'batch {batch}'}"
            row(label, appends(StoreSettings(database_url=url), n, batch), "appends/s")
    for batch, n in ((1, 1_000), (10, 5_000), (100, 12_500)):
        with fresh_schema(prefix="proctor_bench") as url:
            open_log(StoreSettings(database_url=url)).engine.dispose()  # migrate once
            label = f"4 writers, {'single' if batch == 1 else f'batch {batch}'}"
            row(label, parallel_appends(url, 4, n, batch), "appends/s", "(target >= 3,000)")
    with fresh_schema(prefix="proctor_bench") as url:
        log = fill(StoreSettings(database_url=url), size)
        for workers in (1, CPUS):
            rate, count = verification(log, workers)
            label = f"verify {count:,} records, {workers} process(es)"
            row(label, rate, "records/s", "(target >= 200,000)")
        log.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
