"""Fixtures for the budget tests: every ledger backend, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from proctor.budgets import BudgetLedger, MemoryLedger, RedisLedger, SqlLedger
from proctor.policy import Charge
from proctor.store import create_store_engine, migrate


class Clock:
    """Wall-clock seconds that move only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def open_ledger(kind: str, url: str, clock: Callable[[], float] | None) -> BudgetLedger:
    """A ledger of ``kind`` at ``url`` (a database URL, a Redis URL and prefix ``url|prefix``,
    or anything for memory). Used by the tests and by their child processes."""
    if kind == "memory":
        return MemoryLedger(clock) if clock is not None else MemoryLedger()
    if kind == "redis":
        import redis

        server, prefix = url.split("|", 1)
        return RedisLedger(redis.Redis.from_url(server), prefix, clock)
    engine = create_store_engine(url)
    migrate(engine)
    return SqlLedger(engine, clock) if clock is not None else SqlLedger(engine)


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path) -> tuple[str, str]:
    """(kind, url) of each ledger backend in turn."""
    kind = str(request.param)
    if kind == "sqlite":
        return kind, f"sqlite:///{tmp_path / 'budgets.db'}"
    if kind == "postgres":
        return kind, str(request.getfixturevalue("pg_url"))
    if kind == "redis":
        server = request.getfixturevalue("redis_server")
        return kind, f"{server}|{request.getfixturevalue('redis_prefix')}"
    return kind, ""


@pytest.fixture
def ledger(backend: tuple[str, str], clock: Clock) -> Iterator[BudgetLedger]:
    led = open_ledger(*backend, clock)
    yield led
    if isinstance(led, SqlLedger):
        led.engine.dispose()


def charge(
    amount: float,
    *,
    limit: float = 100,
    key: str = "a/b|agent",
    window: int = 3600,
    enforce: bool = True,
) -> Charge:
    """A charge in units (converted to micro-units here)."""
    return Charge(
        "budget.b",
        key.split("|")[0],
        key,
        int(amount * 1_000_000),
        int(limit * 1_000_000),
        window,
        enforce,
    )
