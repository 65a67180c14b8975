"""An alert: which rule fired for which agent, on what value, against what baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from proctor.model import Severity

SEVERITIES = {str(s): s for s in Severity}


def severity(name: str) -> Severity:
    """``"high"`` -> ``Severity.HIGH``."""
    return SEVERITIES[name]


def minute_iso(minute: int) -> str:
    """The start of a minute (minutes since the epoch) as ISO 8601 UTC."""
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. ``minute``: the minute (since the epoch, UTC) whose value fired the rule.
    ``score``: the anomaly score (anomaly rules) or None (threshold rules); ``expected``: the
    baseline (anomaly rules) or the threshold. ``repeats``: alerts of the same rule suppressed
    (deduplicated) since the previous one. Never an argument value or a message's text: a
    destination is a host name, everything else counts."""

    id: str
    agent: str
    rule: str
    signal: str
    tool: str | None
    severity: Severity
    minute: int
    value: float
    expected: float
    score: float | None
    repeats: int = 0

    @property
    def message(self) -> str:
        what = self.signal + (f" of {self.tool}" if self.tool else "")
        if self.score is not None:
            basis = f"baseline {self.expected:.3g}, score {self.score:.1f}"
        else:
            basis = f"threshold {self.expected:g}"
        return (
            f"{self.severity} alert {self.rule}: agent {self.agent} {what} = {self.value:.4g} "
            f"at {minute_iso(self.minute)} ({basis})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.id,
            "agent": self.agent,
            "rule": self.rule,
            "signal": self.signal,
            "tool": self.tool,
            "severity": str(self.severity),
            "minute": minute_iso(self.minute),
            "value": round(self.value, 4),
            "expected": round(self.expected, 4),
            "score": None if self.score is None else round(self.score, 2),
            "repeats": self.repeats,
        }
