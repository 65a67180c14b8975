"""Random spend sequences against a reference model, on every backend: reserve, commit,
release and time passing (expiry, the sliding window) give the same answers as the model."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from proctor.budgets import Reservation
from proctor.policy import Charge

U = 1_000_000
LIMIT, WINDOW, TTL = 100 * U, 3600, 300
_keys = itertools.count()

ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("reserve"),
            st.one_of(st.sampled_from([10 * U, 25 * U, 50 * U, 1]), st.integers(0, 60 * U)),
            st.booleans(),
        ),
        st.tuples(st.just("commit"), st.integers(0, 30), st.just(True)),
        st.tuples(st.just("release"), st.integers(0, 30), st.just(True)),
        st.tuples(
            st.just("advance"),
            st.one_of(st.sampled_from([TTL, WINDOW, 1]), st.integers(0, 2 * WINDOW)),
            st.just(True),
        ),
    ),
    max_size=30,
)


class Model:
    """The specification, as plainly as it can be written."""

    def __init__(self) -> None:
        self.entries: dict[str, list[float | int | None]] = {}  # id: [amount, at, expires]

    def used(self, now: float) -> int:
        total = 0
        for amount, at, expires in self.entries.values():
            assert isinstance(amount, int)
            assert isinstance(at, float)
            if (expires is None and at > now - WINDOW) or (expires is not None and expires > now):
                total += amount
        return total


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
@example(steps=[("reserve", 50 * U, True), ("reserve", 50 * U, True), ("reserve", 1, True)])
@example(steps=[("reserve", 60 * U, True), ("advance", TTL, True), ("reserve", 60 * U, True)])
@example(steps=[("reserve", 60 * U, True), ("commit", 0, True), ("advance", WINDOW, True)])
def test_the_ledger_matches_the_reference_model(ledger, clock, steps):
    key = f"p/b|agent:{next(_keys)}"  # a fresh account per example, on the same backend
    model = Model()
    made: list[Reservation] = []
    late = False  # a commit after its reservation expired or was released: the spend counts

    def charge(amount: int, enforce: bool = True) -> Charge:
        return Charge("budget.b", "p/b", key, amount, LIMIT, WINDOW, enforce)

    for op, n, flag in steps:
        now = clock()
        if op == "reserve":
            fits = not flag or model.used(now) + n <= LIMIT
            got = ledger.reserve([charge(n, flag)], TTL)
            assert isinstance(got, Reservation) is fits, (model.entries, n, flag)
            if isinstance(got, Reservation):
                made.append(got)
                model.entries[got.id] = [n, now, now + TTL]
        elif op in ("commit", "release") and made:
            r = made[n % len(made)]
            (ledger.commit if op == "commit" else ledger.release)(r)
            entry = model.entries.get(r.id)
            if op == "commit":
                late |= entry is None or (entry[2] is not None and entry[2] <= now)
                model.entries[r.id] = [r.charges[0].amount, float(r.at), None]
            elif entry is not None and entry[2] is not None:
                del model.entries[r.id]
        elif op == "advance":
            clock.advance(n)
        assert ledger.usage([charge(0)]) == {key: model.used(clock())}
    lifted = any(not f for o, _, f in steps if o == "reserve")
    assert model.used(clock()) <= LIMIT or lifted or late
