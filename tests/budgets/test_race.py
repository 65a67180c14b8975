"""Races on the last unit of a budget, between real OS processes, on every shared backend:
the total spent never exceeds the limit and exactly the right number of callers win."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest

from proctor.budgets import Reservation

from . import _race
from .conftest import charge, open_ledger

PROCESSES = 6
U = 1_000_000


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str]:
    kind = str(request.param)
    if kind == "sqlite":
        return kind, f"sqlite:///{tmp_path / 'race.db'}"
    if kind == "postgres":
        return kind, str(request.getfixturevalue("pg_url"))
    server = request.getfixturevalue("redis_server")
    return kind, f"{server}|{request.getfixturevalue('redis_prefix')}"


def _run(target: Callable[..., None], *args: Any) -> list[int]:
    ctx = multiprocessing.get_context("spawn")
    ready, start, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args, ready, start, out)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    for _ in procs:  # every process has its ledger open: now all go at once
        assert ready.acquire(timeout=120)
    start.set()
    won = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    return won


def test_processes_racing_for_the_last_50_never_both_get_it(shared):
    kind, url = shared
    ledger = open_ledger(kind, url, None)
    got = ledger.reserve([charge(950, limit=1000)], ttl=60)
    assert isinstance(got, Reservation)
    ledger.commit(got)
    won = _run(_race.spend, kind, url, 50.0, 1)
    assert sum(won) == 1
    assert ledger.usage([charge(0)]) == {"a/b|agent": 1000 * U}


def test_many_processes_spending_one_budget_stop_exactly_at_the_limit(shared):
    kind, url = shared
    won = _run(_race.spend, kind, url, 30.0, 10)  # 60 attempts at 30 on a 1,000 budget
    assert sum(won) == 33  # 33 x 30 = 990; a 34th would make 1,020
    ledger = open_ledger(kind, url, None)
    assert ledger.usage([charge(0)]) == {"a/b|agent": 990 * U}


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_gateway_processes_refunding_at_once_spend_at_most_the_budget(db, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'gw.db'}" if db == "sqlite" else request.getfixturevalue("pg_url")
    effects = tmp_path / "effects.txt"
    won = _run(_race.refund, url, str(effects), 70.0, 4)  # 24 refunds of 70 on 1,000
    lines = effects.read_text().splitlines()
    assert sum(won) == len(lines) == 14  # 14 x 70 = 980
    assert sum(float(ln.split()[2]) for ln in lines) <= 1000
