"""One agent's baseline, and ``fold``: a closed minute goes in, alerts come out. Pure.

A minute's values are keyed by series: ``calls``, ``calls:TOOL``, ``denials``, ``holds``,
``overrides``, ``data_read``, ``injection``, ``value_moved`` and ``dest:HOST`` (calls naming
that external host). The gate's hook and the simulation (``proctor bench monitor``) both feed
minutes through ``Monitor.record`` and ``Monitor.tick``, which call this function: one
algorithm.

A minute is judged before it is learned, and a rate series learns a minute only once it has
left the longest window a rule judges (``_learn``): every window is judged against a baseline
from before it began, so a spike is not learned while it is judged. A minute that was inside
a window a rule judged unusual is never learned: an incident does not become the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.model import new_id
from proctor.monitor._alert import Alert, severity
from proctor.monitor._drift import Drift
from proctor.monitor._estimators import SeasonalRate, tail_score
from proctor.policy._monitor_schema import SHARES, AlertRule, MonitoringPolicy

DEST = "dest:"
TOOL = "calls:"
MAX_DESTINATIONS = 10_000
MAX_TOOL_SERIES = 64
VALUE = "value_moved"
RATES = ("calls", "data_read", "injection", VALUE)
MAX_HELD = 1440  # a rate series unusual this many minutes in a row learns again
MEAN, VAR = "#mean", "#var"  # rings of what a rate series expected, beside its values


@dataclass
class AgentState:
    """Everything the monitor remembers about one agent (kept in the store as JSON)."""

    agent: str
    closed: int  # the last minute folded in
    started: int  # the first minute folded in
    rates: dict[str, SeasonalRate] = field(default_factory=dict)
    shares: dict[str, Drift] = field(default_factory=dict)  # share signal -> its CUSUM
    recent: dict[str, list[float]] = field(default_factory=dict)  # signal -> last minutes
    destinations: dict[str, list[int]] = field(default_factory=dict)  # host -> [first, calls]
    last_alert: dict[str, int] = field(default_factory=dict)  # dedup key -> minute
    repeats: dict[str, int] = field(default_factory=dict)  # dedup key -> suppressed since
    hour: list[int] = field(default_factory=list)  # minutes of the alerts of the last hour
    capped: int = 0  # alerts dropped by the hourly cap, ever
    held: dict[str, int] = field(default_factory=dict)  # rate series -> unusual minutes in a row
    # rate series -> [first, last] minutes inside a window a rule judged unusual, not to learn
    unlearned: dict[str, list[list[int]]] = field(default_factory=dict)

    @staticmethod
    def new(agent: str, minute: int) -> AgentState:
        """A fresh baseline whose first minute is the one after ``minute``."""
        return AgentState(agent, minute, minute + 1)

    def to_state(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "closed": self.closed,
            "started": self.started,
            "rates": {k: v.to_state() for k, v in self.rates.items()},
            "drifts": {k: v.to_state() for k, v in self.shares.items()},
            "recent": {k: [round(x, 4) for x in v] for k, v in self.recent.items()},
            "destinations": self.destinations,
            "last_alert": self.last_alert,
            "repeats": self.repeats,
            "hour": self.hour,
            "capped": self.capped,
            "held": self.held,
            "unlearned": self.unlearned,
        }

    @staticmethod
    def from_state(data: Mapping[str, Any]) -> AgentState:
        return AgentState(
            str(data["agent"]),
            int(data["closed"]),
            int(data["started"]),
            {k: SeasonalRate.from_state(v) for k, v in data["rates"].items()},
            {k: Drift.from_state(v) for k, v in data.get("drifts", {}).items()},
            {k: [float(x) for x in v] for k, v in data["recent"].items()},
            {k: [int(v[0]), int(v[1])] for k, v in data["destinations"].items()},
            {k: int(v) for k, v in data["last_alert"].items()},
            {k: int(v) for k, v in data["repeats"].items()},
            [int(v) for v in data["hour"]],
            int(data["capped"]),
            {k: int(v) for k, v in data.get("held", {}).items()},
            {k: [[int(a), int(b)] for a, b in v] for k, v in data.get("unlearned", {}).items()},
        )

    def skip_to(self, minute: int) -> None:
        """Go on from ``minute`` after a long gap: the minutes waiting to be learned are learned
        first (at their own minutes; the other rate series learned each minute as it closed),
        and the windows start afresh."""
        _learn(self, self.closed, [k for k in self.rates if _lagged(k)], pending=0)
        for key in list(self.recent):
            del self.recent[key]
        self.closed = minute


@dataclass(frozen=True, slots=True)
class _Candidate:
    rule: AlertRule
    tool: str | None
    value: float
    expected: float
    score: float | None


def _window(rules: list[AlertRule]) -> int:
    return max((r.window for r in rules), default=1)


def fold(
    state: AgentState,
    minute: int,
    values: Mapping[str, float],
    policy: MonitoringPolicy,
    tools: tuple[str, ...] = (),
) -> list[Alert]:
    """Fold ``minute`` (the one after ``state.closed``) into ``state``; return the alerts it
    raises, after deduplication and the hourly cap. ``tools``: the policy's tools, whose call
    rates get a baseline from the first minute (other tools from their first call)."""
    calls = float(values.get("calls", 0.0))
    age = minute - state.started  # minutes of history before this one
    warm = age >= policy.warmup
    keep = _window(policy.rules)
    counts: dict[str, int] = {}  # rate series -> minutes its baseline had seen

    quiet = "calls" in state.rates and state.rates["calls"].quiet(minute)
    series = list(RATES)
    if policy.tool_rates:
        seen = [k[len(TOOL) :] for k in values if k.startswith(TOOL)]
        for tool in (*tools, *seen):
            key = TOOL + tool
            if key not in series and (key in state.rates or len(state.rates) < MAX_TOOL_SERIES):
                series.append(key)
    for key in series:
        est = state.rates.get(key)
        if est is None:
            est = state.rates[key] = SeasonalRate(amounts=key == VALUE)
        exp = est.expect(minute, smooth=_lagged(key))
        counts[key] = est.n
        _push(state, key + MEAN, exp.mean, keep)
        _push(state, key + VAR, exp.var, keep)

    share_scores: dict[str, tuple[float, float, float]] = {}  # signal -> count, p, cusum
    for name in SHARES:
        sh = state.shares.get(name)
        if sh is None:
            sh = state.shares[name] = Drift()
        count = float(values.get(name, 0.0))
        p = sh.p
        share_scores[name] = (count, p, sh.update(count, calls, score=warm))

    young = _destinations(state, minute, values, policy.destinations.young_for)
    now: dict[str, float] = {
        "off_hours": calls if quiet else 0.0,
        "new_destination": float(young),
        **{k: float(values.get(k, 0.0)) for k in (*series, *SHARES)},
    }
    for key, value in now.items():
        _push(state, key, value, keep)
    for key in list(state.recent):  # a series gone from this minute's keys: a zero
        if key not in now and not key.endswith((MEAN, VAR)):
            _push(state, key, 0.0, keep)

    found: list[_Candidate] = []
    restart: set[str] = set()  # share signals whose CUSUM reached its highest rule's score
    anomalous: dict[str, int] = {}  # rate series a rule judges unusual -> its longest window
    for rule in policy.rules:
        if rule.above is not None:
            if rule.signal == "new_destination":
                if warm and young > rule.above:
                    found.append(_Candidate(rule, None, float(young), rule.above, None))
                continue
            key = TOOL + rule.tool if rule.tool else rule.signal
            total = sum(state.recent.get(key, [])[-rule.window :])
            if total > rule.above:
                found.append(_Candidate(rule, rule.tool, total, rule.above, None))
                anomalous[key] = max(anomalous.get(key, 0), rule.window)
            continue
        if not warm or rule.score is None:
            continue
        if rule.signal in SHARES:
            count, p, cusum = share_scores[rule.signal]
            if cusum >= rule.score and count >= rule.min_count:
                found.append(_Candidate(rule, None, count, p * calls, cusum))
                if rule.score >= _highest(policy.rules, rule.signal):
                    restart.add(rule.signal)
            continue
        keys: list[str] = [str(rule.signal)] if rule.signal in RATES else []
        if rule.signal == "calls" and rule.tool is not None:
            keys = [TOOL + rule.tool]
        elif rule.signal == "calls" and policy.tool_rates:
            keys += [k for k in counts if k.startswith(TOOL)]
        for key in keys:
            if counts.get(key, 0) < policy.warmup:
                continue
            w = rule.window
            total = sum(state.recent[key][-w:])
            if total <= 0 or total < rule.min_count:  # the cheap tests first (same outcome)
                continue
            expected = sum(state.recent[key + MEAN][-w:])
            if total < rule.min_ratio * expected:
                continue
            est = state.rates[key]
            if rule.test == "poisson":
                z = tail_score(total, expected, est.disp)
            else:
                z = (total - expected) / math.sqrt(
                    max(sum(state.recent[key + VAR][-w:]), est.floor)
                )
            if z >= rule.score:
                found.append(_Candidate(rule, _tool_of(key), total, expected, z))
                anomalous[key] = max(anomalous.get(key, 0), w)
    _hold(state, minute, series, anomalous)
    _learn(state, minute, [k for k in series if _lagged(k)], pending=keep - 1)
    for key in series:  # the others learn this minute at once, but within a run of unusual
        if _lagged(key) or (key in anomalous and 1 < state.held.get(key, 0) <= MAX_HELD):
            continue  # minutes only the first (clipped, as ever): ``_hold``
        state.rates[key].update(minute, float(values.get(key, 0.0)), state.recent[key + MEAN][-1])
    for name in restart:  # an alert was due: the CUSUM starts afresh
        state.shares[name].restart()
    state.closed = minute
    return _admit(state, minute, found, policy)


def _hold(state: AgentState, minute: int, series: list[str], anomalous: Mapping[str, int]) -> None:
    """Mark the minutes of each window a rule judges unusual this minute as never to be learned
    (an alert is due, whether or not deduplication lets it out): an incident teaches the
    baseline nothing, neither its mean nor its dispersion. The clip at mean ± 4 sd bounds one
    minute, not a run of them: a runaway loop of refunds, an hour of 20 to 60 a minute on an
    agent that refunds a few times a day, raised the dispersion of its refunds from 0.7 to 24
    (a minute's lump is capped at 400 times the index, which raises it by a fifth), and a
    spike of refunds the next day scored as usual. A series unusual for longer than
    ``MAX_HELD`` minutes in a row learns again (clipped, as ever): a new normal is taken in,
    slowly, after a day of alerts.

    The series that learn each minute as it closes (``data_read``, ``injection``,
    ``value_moved``) learn the first minute of a run of unusual minutes, clipped, and hold the
    rest: an incident of many minutes teaches its first, bounded, and a sparse series' isolated
    events teach it what an event is. Holding every unusual minute, a series whose events are
    each unusual against an hour that had seen none (a read every 50 minutes, seed 2105 of
    ``proctor bench monitor``) learned no event again once warm: its dispersion fell from a
    read's size to 8 characters, and every read alerted (``data_read.spike`` 121 times in 23
    days on one agent)."""
    for key in series:
        window = anomalous.get(key)
        if window is None:
            state.held.pop(key, None)
            continue
        held = state.held.get(key, 0) + 1
        state.held[key] = held
        if held > MAX_HELD or not _lagged(key):
            continue
        spans = state.unlearned.setdefault(key, [])
        first = minute - window + 1
        if spans and spans[-1][1] >= first - 1:
            spans[-1][1] = minute
            spans[-1][0] = min(spans[-1][0], first)
        else:
            spans.append([first, minute])


def _lagged(key: str) -> bool:
    """Whether ``key`` learns a minute only once it has left every window (counts of calls)."""
    return key == "calls" or key.startswith(TOOL)


def _learn(state: AgentState, minute: int, series: list[str], pending: int) -> None:
    """Teach each rate series the minutes of its ring but the last ``pending`` (each at its own
    minute, with what the series expected of it when it was judged), and drop them from the
    ring: a minute is learned once no window a rule judges holds it any more, so that every
    window is judged against a baseline from before it began. Without the lag, a spike of a
    few events an hour in an hour that usually has none taught the hour's slot its level as
    it happened: 8 refunds in 30 minutes met an expected 0.98, when the slot had expected 0.00
    before the first (seed 1302 of ``proctor bench monitor``). Minutes inside a window a rule
    judged unusual (``_hold``) are dropped without being learned."""
    recent, unlearned = state.recent, state.unlearned
    for key in series:
        ring = recent.get(key)
        if ring is None or len(ring) <= pending:
            continue
        means = recent[key + MEAN]
        spans = unlearned.get(key)
        est = state.rates[key]
        n = len(ring) - pending
        first = minute - len(ring) + 1  # the minute of ring[0]
        offset = len(ring) - len(means)  # means: the same minutes, or fewer (a new series)
        for i in range(n):
            at = first + i
            if spans is not None:
                while spans and spans[0][1] < at:
                    del spans[0]
                if spans and spans[0][0] <= at:
                    continue
            j = i - offset
            est.update(at, ring[i], means[j] if j >= 0 else None)
        if spans is not None and not spans:
            del unlearned[key]
        del ring[:n]
        cut = len(means) - pending
        if cut > 0:
            del means[:cut]
            var = recent[key + VAR]
            del var[: len(var) - pending]


def _highest(rules: list[AlertRule], signal: str) -> float:
    return max((r.score or 0.0) for r in rules if r.signal == signal)


def _push(state: AgentState, key: str, value: float, keep: int) -> None:
    ring = state.recent.get(key)
    if ring is None:
        ring = state.recent[key] = []
    ring.append(value)
    if len(ring) > keep:
        if len(ring) == keep + 1:
            del ring[0]
        else:
            del ring[: len(ring) - keep]


def _tool_of(key: str) -> str | None:
    return key[len(TOOL) :] if key.startswith(TOOL) else None


def _destinations(
    state: AgentState, minute: int, values: Mapping[str, float], young_for: int
) -> int:
    """Learn the minute's destinations; return the most calls any destination first seen less
    than ``young_for`` minutes ago has received since (0 if none)."""
    busiest = 0
    for key, count in values.items():
        if not key.startswith(DEST) or count <= 0:
            continue
        host = key[len(DEST) :]
        seen = state.destinations.get(host)
        if seen is None:
            if len(state.destinations) >= MAX_DESTINATIONS:  # forget the oldest
                oldest = min(state.destinations, key=lambda h: state.destinations[h][0])
                del state.destinations[oldest]
            seen = state.destinations[host] = [minute, 0]
        if minute - seen[0] < young_for:
            seen[1] += int(count)
    for first, n in state.destinations.values():
        if minute - first < young_for and n > busiest:
            busiest = n
    return busiest


def _admit(
    state: AgentState, minute: int, found: list[_Candidate], policy: MonitoringPolicy
) -> list[Alert]:
    """Deduplicate (one alert per rule and tool per ``dedup`` minutes) and cap (at most
    ``max_per_hour`` per agent), most severe first."""
    settings = policy.alerts
    state.hour = [m for m in state.hour if m > minute - 60]
    out: list[Alert] = []
    for c in sorted(found, key=lambda c: -severity(c.rule.severity)):
        key = f"{c.rule.id}|{c.tool or ''}"
        last = state.last_alert.get(key)
        if last is not None and minute - last < settings.dedup:
            state.repeats[key] = state.repeats.get(key, 0) + 1
            continue
        if len(state.hour) >= settings.max_per_hour:
            state.capped += 1
            continue
        state.hour.append(minute)
        state.last_alert[key] = minute
        repeats = state.repeats.pop(key, 0)
        out.append(
            Alert(
                new_id("alr"),
                state.agent,
                c.rule.id,
                c.rule.signal,
                c.tool,
                severity(c.rule.severity),
                minute,
                c.value,
                c.expected,
                c.score,
                repeats,
            )
        )
    return out
