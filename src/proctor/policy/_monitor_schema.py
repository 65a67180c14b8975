"""The policy's ``monitoring:`` section: baselines, alert rules, sinks and containment.

Kept apart from ``_schema.py`` so that the section reads as one unit; ``PolicySpec`` names it.
``proctor.monitor`` runs it (docs/monitoring.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator

SIGNALS = (
    "calls",
    "denials",
    "holds",
    "overrides",
    "data_read",
    "new_destination",
    "off_hours",
    "injection",
    "value_moved",
)
"""What the monitor measures per agent each minute (``calls`` also per agent and tool)."""

COUNTS = ("calls", "injection")
"""Rates of events: what ``test: poisson`` applies to."""

AMOUNTS = ("data_read", "value_moved")
"""Rates of amounts (characters, money): judged by a z-score, their dispersion learned apart."""

SHARES = ("denials", "holds", "overrides")
"""Signals judged as a share of the agent's calls (a drift detector), not as a rate."""

Signal = Literal[
    "calls",
    "denials",
    "holds",
    "overrides",
    "data_read",
    "new_destination",
    "off_hours",
    "injection",
    "value_moved",
]
SeverityName = Literal["info", "low", "medium", "high", "critical"]
SinkName = Literal["audit", "log", "webhook"]
RULE_ID = r"^[a-z][a-z0-9_.-]{0,79}$"
TOOL = r"^[a-z][a-z0-9_.-]{0,63}$"

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SPAN = re.compile(r"^\s*(\d+)\s*(minute|hour|day)s?\s*$")


def _minutes(value: object) -> object:
    if isinstance(value, str):
        m = _SPAN.match(value)
        if not m:
            raise ValueError(
                f"invalid duration {value!r}; expected a number and a unit such as "
                "'10 minutes', '2 hours' or '7 days' (units: minute, hour, day)"
            )
        return int(m.group(1)) * _UNITS[m.group(2)] // 60
    return value


_SCHEMA = WithJsonSchema(
    {"type": "string", "description": "e.g. `10 minutes`, `2 hours`, `7 days` (or minutes)"}
)
Window = Annotated[int, BeforeValidator(_minutes), Field(ge=1, le=1440), _SCHEMA]
Span = Annotated[int, BeforeValidator(_minutes), Field(ge=0, le=60 * 24 * 90), _SCHEMA]
Dedup = Annotated[int, BeforeValidator(_minutes), Field(ge=1, le=60 * 24 * 7), _SCHEMA]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertRule(_Strict):
    """One alert rule: an anomaly score (`score`) or a threshold (`above`) on a signal."""

    id: str = Field(pattern=RULE_ID, description="Rule id, unique in the section.")
    signal: Signal = Field(
        description="calls, denials, holds, overrides (shares of calls), data_read (characters "
        "of tool output read), new_destination (calls to a destination first seen within "
        "`destinations.young_for`), off_hours (calls in hours that are usually quiet), "
        "injection (contents and arguments judged hostile), value_moved (the money or value "
        "the agent's calls move, as `monitoring.value` computes it)."
    )
    tool: str | None = Field(
        default=None,
        pattern=TOOL,
        description="Judge the signal of this tool only (`calls` only). Unset: the whole agent.",
    )
    score: float | None = Field(
        default=None,
        gt=0,
        description="Anomaly rule: alert when the robust z-score against the agent's baseline "
        "(for a rate, of the window against the same hours of the week; for a share, the "
        "CUSUM of the log-likelihood ratio of a rise of the share) reaches this.",
    )
    test: Literal["z", "poisson"] = Field(
        default="z",
        description="Anomaly rules on a rate: how `score` is computed. `z`: the robust z-score "
        "of the window; `poisson` (counts: `calls`, `injection`): minus the log10 of the "
        "probability of so many events in the window if the baseline held (6: one in a "
        "million), in units of the series' dispersion. On small counts a z-score is far from "
        "normal: 5 calls where 0.4 were expected is z 7 but one in 10 million.",
    )
    above: float | None = Field(
        default=None,
        ge=0,
        description="Threshold rule: alert when the signal's sum over `window` exceeds this.",
    )
    window: Window = Field(
        default=1,
        description="The sliding window the signal is summed over (anomaly rules: against the "
        "baseline's sum over the same minutes). Not used by `new_destination`.",
    )
    min_count: float = Field(
        default=0,
        ge=0,
        description="Anomaly rules: the window's value must also reach this (no alert on a "
        "handful of calls, however unusual).",
    )
    min_ratio: float = Field(
        default=1.0,
        ge=1,
        description="Anomaly rules (rates): the window's value must also be at least this many "
        "times the baseline (a busy agent's ordinary burst has a high z-score too).",
    )
    severity: SeverityName = Field(
        default="medium", description="info < low < medium < high < critical."
    )

    @model_validator(mode="after")
    def _one_test(self) -> AlertRule:
        if (self.score is None) == (self.above is None):
            raise ValueError("a rule needs exactly one of `score` (anomaly) or `above` (threshold)")
        if self.tool is not None and self.signal != "calls":
            raise ValueError("`tool` applies to signal `calls` only")
        if self.score is not None and self.signal in ("new_destination", "off_hours"):
            raise ValueError(f"signal {self.signal} takes a threshold (`above`), not a `score`")
        if self.test == "poisson" and (self.score is None or self.signal not in COUNTS):
            raise ValueError(
                "`test: poisson` applies to a `score` on a count (calls, injection); "
                f"{self.signal} is {'an amount' if self.signal in AMOUNTS else 'not a rate'}"
            )
        return self


def _default_sinks() -> list[SinkName]:
    return ["audit", "log"]


class AlertSettings(_Strict):
    """Where alerts go, and how many."""

    sinks: list[SinkName] = Field(
        default_factory=_default_sinks,
        description="audit (an `alert` record), log (the `proctor.monitor` logger), webhook "
        "(a signed POST, retried; PROCTOR_MONITOR_WEBHOOK_URL and _SECRET).",
    )
    dedup: Dedup = Field(
        default=30,
        description="One alert per rule (and tool) per agent in this time; repeats are counted.",
    )
    max_per_hour: int = Field(
        default=10, ge=1, le=1000, description="At most this many alerts per agent per hour."
    )


class Containment(_Strict):
    """What an alert does to the agent, until a person resumes it (`proctor agent resume`)."""

    at: SeverityName | None = Field(
        default="critical",
        description="An alert at or above this severity contains the agent. Null: never.",
    )
    action: Literal["draft", "read", "pause"] = Field(
        default="draft",
        description="draft or read: calls above that autonomy level are denied; pause: the kill "
        "switch (every call held or denied, as `controls.on_pause` says).",
    )


class Destinations(_Strict):
    """External destinations: hosts of the recipient and destination arguments of a call."""

    young_for: Dedup = Field(
        default=60,
        description="A destination first seen less than this long ago is new; calls to it count "
        "in the `new_destination` signal.",
    )


VALUE_SCORE = 8.0
VALUE_WINDOW = 30


def _value_text(value: object) -> object:
    """``payments.refund: 1`` (a constant) is the expression ``1``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


ValueExpression = Annotated[str, BeforeValidator(_value_text), Field(min_length=1)]


def _default_rules() -> list[AlertRule]:
    return [
        AlertRule(
            id="calls.spike",
            signal="calls",
            test="poisson",
            score=10,
            window=5,
            min_ratio=4,
            min_count=5,
            severity="high",
        ),
        AlertRule(
            id="calls.sustained",
            signal="calls",
            test="poisson",
            score=6,
            window=30,
            min_ratio=4,
            min_count=5,
            severity="medium",
        ),
        AlertRule(id="denials.drift", signal="denials", score=5, severity="high"),
        AlertRule(id="holds.drift", signal="holds", score=9, severity="medium"),
        AlertRule(
            id="data_read.spike",
            signal="data_read",
            score=8,
            window=15,
            min_ratio=4,
            severity="high",
        ),
        AlertRule(
            id="value_moved.spike",
            signal="value_moved",
            score=VALUE_SCORE,
            window=VALUE_WINDOW,
            min_ratio=4,
            severity="high",
        ),
        AlertRule(
            id="new_destination", signal="new_destination", above=3, window=60, severity="critical"
        ),
        AlertRule(id="off_hours", signal="off_hours", above=30, window=60, severity="medium"),
        AlertRule(id="injection.burst", signal="injection", above=2, window=10, severity="high"),
    ]


class MonitoringPolicy(_Strict):
    """Continuous monitoring (docs/monitoring.md): per-agent baselines, alert rules, sinks and
    automatic containment. Off unless ``enabled``."""

    enabled: bool = Field(default=False, description="Monitor this agent.")
    warmup: Span = Field(
        default=7 * 1440,
        description="No anomaly alert before the agent's baseline has seen this much time "
        "(threshold rules apply at once).",
    )
    tool_rates: bool = Field(
        default=True,
        description="Also keep a call-rate baseline per tool, judged by the `calls` rules "
        "without a `tool` (a runaway loop on one tool).",
    )
    rules: list[AlertRule] = Field(
        default_factory=_default_rules,
        description="Alert rules. Unset: calls.spike, calls.sustained, denials.drift, holds.drift, "
        "data_read.spike, value_moved.spike, new_destination, off_hours, injection.burst "
        "(see docs/monitoring.md).",
    )
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Sinks and caps.")
    contain: Containment = Field(default_factory=Containment, description="Automatic containment.")
    destinations: Destinations = Field(
        default_factory=Destinations, description="What counts as a new destination."
    )
    value: dict[Annotated[str, Field(pattern=TOOL)], ValueExpression] | None = Field(
        default=None,
        description="The money or value a call of each tool moves (the `value_moved` signal): "
        "a CEL expression over the call (args, env, agent, tool, principal, tenant) that "
        "yields a number, e.g. `payments.refund: args.amount`. Unset: each tool's amount in "
        "the policy's budgets, else its argument whose role is `amount`. `{}`: off.",
    )


def monitoring_problems(
    spec: MonitoringPolicy | None, tools: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Checks that need the whole policy: (path, message) per problem."""
    if spec is None:
        return
    seen: dict[str, int] = {}
    for i, rule in enumerate(spec.rules):
        path: tuple[str | int, ...] = ("monitoring", "rules", i)
        if rule.id in seen:
            yield (*path, "id"), f"duplicate rule id {rule.id!r} (also rule {seen[rule.id]})"
        seen.setdefault(rule.id, i)
        if rule.tool is not None and rule.tool not in tools:
            yield (*path, "tool"), f"tool {rule.tool!r} is not one of the policy's tools"
    for tool in spec.value or {}:
        if tool not in tools:
            path = ("monitoring", "value", tool)
            yield path, f"tool {tool!r} is not one of the policy's tools"
