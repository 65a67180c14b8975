"""The rate estimator: seasonality, robustness, warm-up, and state that round-trips (the share's
CUSUM: test_drift.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.monitor import SeasonalRate, hour_of_week

MONDAY = 28_401_120  # 2024-01-01 00:00 UTC, in minutes
WEEK = 7 * 1440


def test_hour_of_week_starts_on_monday_utc():
    assert hour_of_week(MONDAY) == 0
    assert hour_of_week(MONDAY + 59) == 0
    assert hour_of_week(MONDAY + 60) == 1
    assert hour_of_week(MONDAY + 6 * 1440 + 23 * 60) == 167
    assert hour_of_week(MONDAY + WEEK) == 0


def working_hours(minute: int) -> float:
    how = hour_of_week(minute)
    return 10.0 if how < 5 * 24 and 9 <= how % 24 < 17 else 0.0


def test_a_weekly_pattern_is_learned_per_hour_of_the_week():
    est = SeasonalRate()
    for m in range(MONDAY, MONDAY + 3 * WEEK):
        est.update(m, working_hours(m))
    monday_10 = est.expect(MONDAY + 3 * WEEK + 10 * 60)
    sunday_03 = est.expect(MONDAY + 3 * WEEK + 6 * 1440 + 3 * 60)
    assert monday_10.level == sunday_03.level == "week"
    assert 9.0 < monday_10.mean < 11.0
    assert sunday_03.mean < 0.01
    # ten calls on a Monday morning are ordinary; ten on a Sunday night are not
    assert monday_10.score(10.0) < 1.0
    assert sunday_03.score(10.0) > 9.0


def test_a_smoothed_hour_expects_at_least_its_neighbours_and_its_hour_of_the_day():
    est = SeasonalRate()
    for m in range(MONDAY, MONDAY + 3 * WEEK):
        est.update(m, working_hours(m))
    week = MONDAY + 3 * WEEK
    eight = week + 8 * 60  # Monday 08:00: quiet, beside 09:00
    assert est.expect(eight).mean < 0.01
    assert 9.0 < est.expect(eight, smooth=True).mean < 11.0  # 09:00's level
    three = week + 3 * 60  # Monday 03:00: quiet, and so are its neighbours and the day's 03:00
    assert est.expect(three, smooth=True).mean < 0.01
    saturday = week + 5 * 1440 + 10 * 60  # quiet at the weekend, busy on weekdays at 10:00
    assert est.expect(saturday).mean < 0.01
    assert 5.0 < est.expect(saturday, smooth=True).mean < 9.0  # the day's 10:00: 5 days of 7
    assert est.expect(eight, smooth=True).level == "week"
    # a level that has not seen enough minutes lends nothing
    young = SeasonalRate()
    for m in range(MONDAY + 9 * 60, MONDAY + 9 * 60 + 20):
        young.update(m, 10.0)
    for m in range(MONDAY + 8 * 60 - 40, MONDAY + 9 * 60):
        young.update(m, 0.0)
    assert young.expect(MONDAY + WEEK + 8 * 60 + 30, smooth=True).mean < 1.0


def test_a_young_series_falls_back_to_the_hour_of_day_then_to_all_minutes():
    est = SeasonalRate()
    assert est.expect(MONDAY).level == "all"
    for m in range(MONDAY, MONDAY + 2 * 1440):
        est.update(m, working_hours(m))
    tuesday = est.expect(MONDAY + 1440 + 10 * 60)  # Tuesday 10:00 seen once: 60 minutes
    wednesday = est.expect(MONDAY + 2 * 1440 + 10 * 60)  # never seen: the hour of the day
    assert tuesday.level == "week"
    assert wednesday.level == "day"
    assert 9.0 < wednesday.mean < 11.0


@settings(max_examples=50, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=300),
    start=st.integers(min_value=0, max_value=10**8),
)
def test_state_round_trips_through_json(values, start):
    est = SeasonalRate()
    for i, v in enumerate(values):
        est.update(start + i, v)
    again = SeasonalRate.from_state(json.loads(json.dumps(est.to_state())))
    m = start + len(values)
    assert again.expect(m).mean == round(est.expect(m).mean, 6) or abs(
        again.expect(m).mean - est.expect(m).mean
    ) <= 1e-6 * max(1.0, abs(est.expect(m).mean))


@settings(max_examples=50, deadline=None)
@given(
    level=st.floats(min_value=0, max_value=1000),
    outlier=st.floats(min_value=0, max_value=1e12),
)
def test_one_outlier_cannot_become_the_baseline(level, outlier):
    """Warm levels learn a clipped value: an incident barely moves the baseline."""
    est = SeasonalRate()
    m = MONDAY
    for _ in range(2 * WEEK // 60):  # enough minutes for every level to be warm at m
        est.update(m, level)
    before = est.expect(m)
    est.update(m, outlier)
    after = est.expect(m)
    assert abs(after.mean - before.mean) <= 4.0 * before.sd * 0.01 + 1e-9


def _exact_tail(k: int, mu: float) -> float:
    import math

    below = sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k))
    return -math.log10(1.0 - below)


@pytest.mark.parametrize(
    ("k", "mu"), [(5, 0.4), (7, 0.4), (10, 2.0), (20, 5.0), (40, 10.0), (3, 0.01)]
)
def test_the_tail_score_is_the_poisson_tail_within_a_factor_of_two(k, mu):
    import math

    from proctor.monitor._estimators import tail_score

    exact = _exact_tail(k, mu)
    assert exact - math.log10(2) <= tail_score(k, mu) <= exact + 1e-9  # a bound: never above


def test_the_tail_score_is_zero_at_or_below_the_mean_and_grows_with_the_count():
    from proctor.monitor._estimators import tail_score

    assert tail_score(3, 3.0) == 0.0
    assert tail_score(1, 4.0) == 0.0
    scores = [tail_score(k, 1.0) for k in range(2, 30)]
    assert scores == sorted(scores)
    assert tail_score(10, 1.0, disp=2.0) < tail_score(10, 1.0)  # overdispersed: less unusual


def test_a_sparse_series_of_amounts_learns_the_size_of_one_amount():
    """One refund of about 300 every five hours: the spread of a minute is one refund's size
    (its variance over its mean is about E[a^2]/E[a]), not a fraction of it."""
    import random

    rnd = random.Random(3)
    est = SeasonalRate(amounts=True)
    for m in range(14 * 1440):
        x = rnd.uniform(200, 400) if m % 300 == 17 else 0.0
        est.update(MONDAY + m, x)
    assert 200 < est.disp < 500
    again = SeasonalRate.from_state(json.loads(json.dumps(est.to_state())))
    assert (again.disp, again.spread, again.level, again.amounts) == (
        est.disp,
        est.spread,
        est.level,
        True,
    )
    old = est.to_state()
    for key in ("s", "l", "a"):  # a baseline stored before: goes on from its index
        del old[key]
    assert SeasonalRate.from_state(old).disp == est.disp
