"""Streaming estimators of an agent's normal behaviour, one minute at a time. Pure: no I/O,
no clock; their state is plain data (``to_state`` / ``from_state``) kept in the store.

- ``SeasonalRate``: a count per minute (calls, characters read) against the same hour of the
  week. An EWMA of the mean and of the absolute deviation per hour of the week (168 slots),
  falling back to the hour of the day (24 slots) and then to all minutes while a slot has seen
  too few minutes. The score is a robust z-score: ``(x - mean) / sd`` where ``sd`` is the
  larger of 1.2533 times the mean absolute deviation (the standard deviation of a normal
  variable), the compound-Poisson ``sqrt(mean x D)``, a tenth of the mean, and ``D``, where
  ``D`` is the series' dispersion index (variance over mean: about 1 for a count of calls, the
  typical size of one read for characters read, of one refund for the value moved: an EWMA
  of each minute's ratio for counts, a ratio of EWMAs for a series of ``amounts``). Over a
  window of minutes the score is ``(sum x - sum mean) / sqrt(max(sum var, D²))``. Updates
  are clipped to ``mean ± 4 sd`` once a level is warm, so that one unusual minute does not
  become the baseline; the fold does not teach a series the minutes a rule judges unusual at
  all (``fold``), so that a run of them does not either.
- ``tail_score``: for a count, how improbable a window's total is under the baseline (minus
  the log10 of a Poisson tail), the ``poisson`` test of an alert rule.

A share of calls (denials, holds, overrides) is watched by a CUSUM instead: ``_drift.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

HOURS_PER_WEEK = 168
MONDAY_OFFSET_HOURS = 72  # 1970-01-01 was a Thursday: hour 0 of the epoch is Thursday 00:00
MAD_TO_SD = 1.2533  # mean absolute deviation -> standard deviation, for a normal variable
CLIP = 4.0  # robust updates: a value is clipped to mean ± CLIP sd before it teaches the baseline
DISP_CLIP = 400.0  # counts: one minute moves the dispersion index by at most 400 times its value
DISP_GROWTH = 0.5  # amounts: once warm, one minute raises the spread by at most a half
MINUTES_PER_DAY = 1440
MIN_SLOT_MINUTES = 30  # a seasonal slot is trusted once it has seen this many minutes


def hour_of_week(minute: int) -> int:
    """0 = Monday 00:00-00:59 UTC, ..., 167 = Sunday 23:00-23:59 UTC."""
    return (minute // 60 + MONDAY_OFFSET_HOURS) % HOURS_PER_WEEK


def alpha(half_life: float) -> float:
    """The EWMA weight whose influence halves after ``half_life`` updates."""
    return float(1.0 - 0.5 ** (1.0 / half_life))


@dataclass(frozen=True, slots=True)
class Expectation:
    """What a series expected for a minute: ``mean`` and ``var`` (the variance of one minute,
    before the floor of 1 that ``sd`` applies: a window adds variances up first), and the level
    it came from (``week``, ``day`` or ``all``)."""

    mean: float
    var: float
    level: str
    floor: float = 1.0  # the least variance: one event's size, squared (1 for a count)

    @property
    def sd(self) -> float:
        return math.sqrt(max(self.var, self.floor))

    def score(self, x: float) -> float:
        return (x - self.mean) / self.sd


def _var(mean: float, dev: float, disp: float = 1.0) -> float:
    """The larger of: (1.2533 x mean absolute deviation)², the compound-Poisson variance
    ``mean x dispersion``, and (a tenth of the mean)²."""
    return max((MAD_TO_SD * dev) ** 2, max(mean, 0.0) * max(disp, 1.0), (0.1 * mean) ** 2)


def _sd(mean: float, dev: float, disp: float = 1.0) -> float:
    return math.sqrt(max(_var(mean, dev, disp), max(disp, 1.0) ** 2))


@dataclass(slots=True)
class SeasonalRate:
    """A per-minute count with hour-of-week seasonality (see the module docstring)."""

    week_mean: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)
    week_dev: list[float] = field(default_factory=lambda: [0.0] * HOURS_PER_WEEK)
    week_n: list[int] = field(default_factory=lambda: [0] * HOURS_PER_WEEK)
    day_mean: list[float] = field(default_factory=lambda: [0.0] * 24)
    day_dev: list[float] = field(default_factory=lambda: [0.0] * 24)
    day_n: list[int] = field(default_factory=lambda: [0] * 24)
    mean: float = 0.0
    dev: float = 0.0
    n: int = 0  # minutes observed
    disp: float = 1.0  # dispersion index, variance / mean: 1 for calls, a read's size for data
    spread: float = 0.0  # amounts: EWMA of the squared deviation from the expected mean
    level: float = 0.0  # amounts: EWMA of the expected mean
    amounts: bool = False  # a series of amounts (characters, money), not of counts

    # half-lives, in updates of each level: 2 weeks of one hour-of-week slot (60 minutes a
    # week), 3 days of one hour-of-day slot, 1 day of all minutes
    WEEK_ALPHA = alpha(120)
    DAY_ALPHA = alpha(180)
    ALL_ALPHA = alpha(1440)

    @property
    def floor(self) -> float:
        """The least variance of a minute or a window: one event's typical size, squared."""
        return max(self.disp, 1.0) ** 2

    def expect(self, minute: int, smooth: bool = False) -> Expectation:
        """What this series expects at ``minute`` (the most specific warm level). ``smooth``:
        an hour of the week expects at least what the hours either side of it do, and what the
        same hour does on an average day (warm levels only): a series judged against a
        baseline from before the window (``fold``'s counts of calls) would otherwise expect
        nothing of an hour that happened to see nothing in the weeks it has seen, and an
        ordinary working day that starts half an hour early looks like a spike."""
        how = hour_of_week(minute)
        d = self.disp
        hod = how % 24
        if self.week_n[how] >= MIN_SLOT_MINUTES:
            m = self.week_mean[how]
            if smooth:
                wn, wm = self.week_n, self.week_mean
                before, after = (how - 1) % HOURS_PER_WEEK, (how + 1) % HOURS_PER_WEEK
                if wn[before] >= MIN_SLOT_MINUTES and wm[before] > m:
                    m = wm[before]
                if wn[after] >= MIN_SLOT_MINUTES and wm[after] > m:
                    m = wm[after]
                if self.day_n[hod] >= MIN_SLOT_MINUTES and self.day_mean[hod] > m:
                    m = self.day_mean[hod]
            return Expectation(m, _var(m, self.week_dev[how], d), "week", self.floor)
        if self.day_n[hod] >= MIN_SLOT_MINUTES:
            m = self.day_mean[hod]
            return Expectation(m, _var(m, self.day_dev[hod], d), "day", self.floor)
        return Expectation(self.mean, _var(self.mean, self.dev, d), "all", self.floor)

    def quiet(self, minute: int, fraction: float = 0.05) -> bool:
        """Whether ``minute`` falls in an hour of the week that is usually quiet: its slot is
        warm and its mean is below ``fraction`` of the mean over all minutes (at least 0.05)."""
        how = hour_of_week(minute)
        if self.week_n[how] < MIN_SLOT_MINUTES:
            return False
        return self.week_mean[how] < max(fraction * self.mean, 0.05)

    def update(self, minute: int, x: float, expected: float | None = None) -> None:
        """Learn the value ``x`` observed at ``minute`` (``expected``: the mean this series
        expected of it when it was judged; ``expect(minute).mean`` if None)."""
        how = hour_of_week(minute)
        hod = how % 24
        # the dispersion index: how much one minute varies for its mean (a volume of data read
        # comes in lumps, one per read: its variance is its mean times a read's typical size)
        mean = self.expect(minute).mean if expected is None else expected
        if self.amounts:
            self._learn_dispersion(x, mean)
        else:
            lump = (x - mean) ** 2 / max(mean, 0.01)
            disp = max(self.disp, 1.0)
            self.disp += self.ALL_ALPHA * (min(lump, DISP_CLIP * disp) - self.disp)
        self.week_mean[how], self.week_dev[how], self.week_n[how] = _learn(
            self.week_mean[how], self.week_dev[how], self.week_n[how], x, self.WEEK_ALPHA, self.disp
        )
        self.day_mean[hod], self.day_dev[hod], self.day_n[hod] = _learn(
            self.day_mean[hod], self.day_dev[hod], self.day_n[hod], x, self.DAY_ALPHA, self.disp
        )
        self.mean, self.dev, self.n = _learn(
            self.mean, self.dev, self.n, x, self.ALL_ALPHA, self.disp
        )

    def _learn_dispersion(self, x: float, mean: float) -> None:
        """For a series of amounts: the dispersion index as a ratio of two EWMAs, of the squared
        deviation from the expected mean and of that mean. The EWMA of each minute's ratio
        (counts keep it) clips a minute at 400 times the index, which a sparse series of
        amounts always reaches: an agent that refunds once in five hours learned a tenth of one
        refund's size, and every refund looked like a spike. Once the series has seen a day,
        one minute raises the spread by at most a half (an ordinary refund of a sparse agent
        raises it by a few percent): an incident does not become the spread."""
        sq = (x - mean) ** 2
        a = self.ALL_ALPHA if self.n >= MINUTES_PER_DAY else max(self.ALL_ALPHA, 1 / (self.n + 1))
        if self.n >= MINUTES_PER_DAY and self.spread > 0.0:
            sq = min(sq, DISP_GROWTH * self.spread / a)
        self.spread += a * (sq - self.spread)
        self.level += a * (max(mean, 0.0) - self.level)
        if self.level > 0.0:
            self.disp = self.spread / self.level

    def to_state(self) -> dict[str, Any]:
        return {
            "wm": [round(v, 6) for v in self.week_mean],
            "wd": [round(v, 6) for v in self.week_dev],
            "wn": self.week_n,
            "dm": [round(v, 6) for v in self.day_mean],
            "dd": [round(v, 6) for v in self.day_dev],
            "dn": self.day_n,
            "m": self.mean,
            "d": self.dev,
            "n": self.n,
            "x": self.disp,
            "s": self.spread,
            "l": self.level,
            "a": self.amounts,
        }

    @staticmethod
    def from_state(data: Mapping[str, Any]) -> SeasonalRate:
        return SeasonalRate(
            [float(v) for v in data["wm"]],
            [float(v) for v in data["wd"]],
            [int(v) for v in data["wn"]],
            [float(v) for v in data["dm"]],
            [float(v) for v in data["dd"]],
            [int(v) for v in data["dn"]],
            float(data["m"]),
            float(data["d"]),
            int(data["n"]),
            float(data["x"]),
            # a baseline stored before the ratio estimator goes on from its dispersion index
            float(data.get("s", float(data["x"]) * max(float(data["m"]), 0.0))),
            float(data.get("l", max(float(data["m"]), 0.0))),
            bool(data.get("a", False)),
        )


def tail_score(total: float, expected: float, disp: float = 1.0) -> float:
    """How improbable ``total`` events are when ``expected`` were: ``-log10 P(N >= total)``
    for ``N`` Poisson with mean ``expected``, both in units of ``disp`` (the dispersion index:
    1 for calls, more for an overdispersed series). 0 when ``total`` is not above the mean.
    The tail is bounded by its first term over ``1 - expected / (total + 1)`` (a geometric
    series; exact within a factor 2 once ``total`` is twice the mean, which ``min_ratio``
    ensures): on small counts, where a z-score is far from normal, this is the real tail."""
    d = max(disp, 1.0)
    k, mu = total / d, max(expected / d, 1e-12)
    if k <= mu:
        return 0.0
    log_p = k * math.log(mu) - mu - math.lgamma(k + 1.0) - math.log1p(-mu / (k + 1.0))
    return max(0.0, -log_p / math.log(10.0))


def _learn(
    mean: float, dev: float, n: int, x: float, a: float, disp: float
) -> tuple[float, float, int]:
    """One robust EWMA step of (mean, mean absolute deviation). A cold level (few minutes) is
    a running average; a warm one clips ``x`` to mean ± CLIP sd first."""
    if n < MIN_SLOT_MINUTES:
        a = max(a, 1.0 / (n + 1))
    else:
        d = disp if disp > 1.0 else 1.0
        var = (MAD_TO_SD * dev) ** 2
        if mean * d > var:
            var = mean * d
        if d * d > var:
            var = d * d
        limit = CLIP * math.sqrt(max(var, (0.1 * mean) ** 2))
        if x > mean + limit:
            x = mean + limit
        elif x < mean - limit:
            x = mean - limit
    deviation = abs(x - mean)
    mean += a * (x - mean)
    dev += a * (deviation - dev)
    return mean, dev, n + 1 if n < 1_000_000_000 else n
