"""Every ledger backend keeps the same accounts: reserve checks and records at once, commit
spends, release gives back, reservations expire, windows slide."""

from __future__ import annotations

import pytest

from proctor.budgets import AccountState, Reservation
from proctor.policy import Charge

from .conftest import charge

U = 1_000_000


def reserved(got: Reservation | Charge) -> Reservation:
    assert isinstance(got, Reservation), f"refused: {got}"
    return got


def test_reserve_counts_at_once_and_refuses_what_does_not_fit(ledger):
    r1 = reserved(ledger.reserve([charge(60)], ttl=60))
    assert ledger.usage([charge(0)]) == {"a/b|agent": 60 * U}
    refused = ledger.reserve([charge(41)], ttl=60)
    assert refused == charge(41)
    assert ledger.usage([charge(0)]) == {"a/b|agent": 60 * U}  # a refusal records nothing
    reserved(ledger.reserve([charge(40)], ttl=60))  # exactly to the limit: fits
    assert ledger.reserve([charge(0.000001)], ttl=60) == charge(0.000001)
    ledger.commit(r1)
    assert ledger.usage([charge(0)]) == {"a/b|agent": 100 * U}


def test_release_gives_back_and_commit_keeps(ledger):
    r1 = reserved(ledger.reserve([charge(70)], ttl=60))
    ledger.release(r1)
    assert ledger.usage([charge(0)]) == {"a/b|agent": 0}
    r2 = reserved(ledger.reserve([charge(70)], ttl=60))
    ledger.commit(r2)
    ledger.release(r2)  # releasing a committed reservation gives nothing back
    assert ledger.usage([charge(0)]) == {"a/b|agent": 70 * U}


def test_a_reservation_that_expires_stops_counting(ledger, clock):
    reserved(ledger.reserve([charge(90)], ttl=30))  # its process crashed: never settled
    assert ledger.reserve([charge(20)], ttl=30) == charge(20)
    clock.advance(29)
    assert ledger.reserve([charge(20)], ttl=30) == charge(20)
    clock.advance(2)
    assert ledger.usage([charge(0)]) == {"a/b|agent": 0}
    reserved(ledger.reserve([charge(100)], ttl=30))


def test_a_commit_after_expiry_still_counts_the_spend(ledger, clock):
    r = reserved(ledger.reserve([charge(80)], ttl=10))
    clock.advance(11)  # expired: someone else may have reserved meanwhile
    ledger.commit(r)  # but the tool ran: the money is gone
    assert ledger.usage([charge(0)]) == {"a/b|agent": 80 * U}


def test_the_window_slides(ledger, clock):
    ledger.commit(reserved(ledger.reserve([charge(60)], ttl=60)))
    clock.advance(1800)
    ledger.commit(reserved(ledger.reserve([charge(40)], ttl=60)))
    assert ledger.reserve([charge(1)], ttl=60) == charge(1)
    clock.advance(1801)  # the first spend left the hour; the second has not
    assert ledger.usage([charge(0)]) == {"a/b|agent": 40 * U}
    reserved(ledger.reserve([charge(60)], ttl=60))
    assert ledger.reserve([charge(1)], ttl=60) == charge(1)


def test_several_charges_are_all_or_nothing(ledger):
    a, b = charge(30, key="a/x|agent"), charge(30, key="a/y|agent", limit=50)
    reserved(ledger.reserve([a, b], ttl=60))
    assert ledger.reserve([a, b], ttl=60) == b  # y is full: x must not be charged either
    assert ledger.usage([a, b]) == {"a/x|agent": 30 * U, "a/y|agent": 30 * U}


def test_accounts_are_separate_and_listed(ledger):
    reserved(ledger.reserve([charge(10, key="a/b|tenant:t1")], ttl=60))
    ledger.commit(reserved(ledger.reserve([charge(20, key="a/b|tenant:t2")], ttl=60)))
    reserved(ledger.reserve([charge(5, key="a/other|agent")], ttl=60))
    assert ledger.accounts("a/b", 3600) == [
        AccountState("a/b", "a/b|tenant:t1", 0, 10 * U),
        AccountState("a/b", "a/b|tenant:t2", 20 * U, 0),
    ]


def test_a_lifted_charge_is_reserved_over_the_limit_and_counted(ledger):
    ledger.commit(reserved(ledger.reserve([charge(90)], ttl=60)))
    reserved(ledger.reserve([charge(50, enforce=False)], ttl=60))  # approvers lifted the hold
    assert ledger.usage([charge(0)]) == {"a/b|agent": 140 * U}
    assert ledger.reserve([charge(0)], ttl=60) == charge(0)  # over: even nothing does not fit


@pytest.mark.parametrize("kind", ["sqlite"])
def test_a_store_that_fails_raises_budget_error(kind, tmp_path):
    from sqlalchemy import text

    from proctor.budgets import SqlLedger
    from proctor.errors import BudgetError
    from proctor.store import create_store_engine, migrate

    engine = create_store_engine(f"sqlite:///{tmp_path / 'b.db'}")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE proctor_budget_entries"))
    led = SqlLedger(engine)
    with pytest.raises(BudgetError, match="cannot reserve budget"):
        led.reserve([charge(1)], ttl=60)
    with pytest.raises(BudgetError, match="cannot read budgets"):
        led.usage([charge(1)])
    engine.dispose()


def test_redis_that_is_down_raises_budget_error():
    import redis

    from proctor.budgets import RedisLedger
    from proctor.errors import BudgetError

    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    led = RedisLedger(client, "x:")
    with pytest.raises(BudgetError, match="cannot reserve budget in Redis"):
        led.reserve([charge(1)], ttl=60)
    with pytest.raises(BudgetError):
        led.accounts("a/b", 60)


def test_sweep_deletes_only_what_no_window_counts(db_url, clock):
    from proctor.budgets import SqlLedger

    from .conftest import open_ledger

    led = open_ledger("sql", db_url, clock)
    assert isinstance(led, SqlLedger)
    try:
        led.commit(reserved(led.reserve([charge(10)], ttl=60)))  # leaves the window
        reserved(led.reserve([charge(20)], ttl=60))  # expires
        clock.advance(3000)
        led.commit(reserved(led.reserve([charge(30)], ttl=60)))  # counts
        live = reserved(led.reserve([charge(5)], ttl=3600))  # counts
        clock.advance(700)
        assert led.usage([charge(0)]) == {"a/b|agent": 35 * U}
        assert led.sweep(older_than=clock() - 3600) == 2
        assert led.usage([charge(0)]) == {"a/b|agent": 35 * U}
        led.release(live)
        assert led.usage([charge(0)]) == {"a/b|agent": 30 * U}
    finally:
        led.engine.dispose()


@pytest.mark.parametrize("slow_first", [True, False])
def test_redis_never_shortens_the_expiry_of_reservations_in_flight(
    redis_server, redis_prefix, slow_first
):
    """review M1: a fast tool's reservation must not expire a slow one's still running (its
    expiry was set to the fast one's TTL; the slow call's budget then came back mid-flight)."""
    import redis

    from proctor.budgets import RedisLedger

    client = redis.Redis.from_url(redis_server)
    led = RedisLedger(client, redis_prefix)
    order = [3900.0, 301.0] if slow_first else [301.0, 3900.0]
    got = [reserved(led.reserve([charge(45)], ttl)) for ttl in order]
    fast = got[order.index(301.0)]
    led.commit(fast)
    assert client.pttl(f"{redis_prefix}a:a/b|agent:r") > 3600 * 1000  # the slow call's TTL
    assert isinstance(led.reserve([charge(45)], 400), Charge)  # 45 + 45 + 45 > 100
    assert led.usage([charge(0)])["a/b|agent"] == 90_000_000
