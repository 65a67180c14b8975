"""The hostility judgement: many findings in, one answer out (kept apart from the scan status)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from proctor.model import Finding

HOSTILE_THRESHOLD = 0.7
NEAR_MISS_THRESHOLD = 0.35


@dataclass(frozen=True, slots=True)
class Judgement:
    """Is a text hostile? ``score`` combines the findings (noisy-or over distinct rules, so
    one rule matching ten times counts once); a detector error makes the text hostile (fail
    closed); ``near_miss`` is a score below the hostile threshold but worth counting."""

    hostile: bool
    score: float
    near_miss: bool
    errored: bool
    findings: tuple[Finding, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(f.explanation for f in sorted(self.findings, key=lambda f: -f.score))

    def to_dict(self) -> dict[str, object]:
        return {
            "hostile": self.hostile,
            "score": round(self.score, 4),
            "near_miss": self.near_miss,
            "errored": self.errored,
            "findings": len(self.findings),
        }


def judge(
    findings: Iterable[Finding],
    *,
    hostile_threshold: float = HOSTILE_THRESHOLD,
    near_miss_threshold: float = NEAR_MISS_THRESHOLD,
) -> Judgement:
    """Fold findings into a judgement."""
    found = tuple(findings)
    errored = any(f.errored for f in found)
    best: dict[tuple[str, str], float] = {}
    for f in found:
        key = (f.detector, f.rule)
        best[key] = max(best.get(key, 0.0), min(1.0, max(0.0, f.score)))
    miss = 1.0
    for s in best.values():
        miss *= 1.0 - s
    score = 1.0 if errored else 1.0 - miss
    hostile = errored or score >= hostile_threshold
    near = not hostile and score >= near_miss_threshold
    return Judgement(hostile, score, near, errored, found)
