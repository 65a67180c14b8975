"""What a content detector found: a value that explains itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from proctor.model._enums import StepStatus


class Severity(IntEnum):
    """How bad a finding is. Ordered so that ``max()`` picks the worst."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector found in a text.

    ``detector`` and ``rule`` say which check matched, ``span`` where (character offsets into the
    text named by ``where``: empty for the scanned text itself, else a segment such as an HTML
    comment, a JSON path or a decoded layer), ``score`` how sure it is (0 to 1), and
    ``explanation`` why, in words a reviewer can read. ``excerpt`` is a short, truncated quote
    of the matched text. A detector that crashed yields a finding with ``status`` ``error``: it
    is treated as hostile (fail closed).
    """

    detector: str
    span: tuple[int, int]
    score: float
    severity: Severity
    explanation: str
    rule: str = ""
    excerpt: str = ""
    where: str = ""
    status: StepStatus = StepStatus.OK

    @property
    def errored(self) -> bool:
        return self.status is StepStatus.ERROR

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (for the CLI, the audit record and the API)."""
        return {
            "detector": self.detector,
            "rule": self.rule,
            "span": list(self.span),
            "score": round(self.score, 4),
            "severity": str(self.severity),
            "status": str(self.status),
            "where": self.where,
            "excerpt": self.excerpt,
            "explanation": self.explanation,
        }
