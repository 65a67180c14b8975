"""The base of the value detectors (PII and secrets): a real ABC, declared by class attributes,
one detector per module under ``proctor.vault.detectors``.

A detector finds values of one kind in a text and says, for each, where it is, what class of
data it is, how sure it is, and why: a ``Match``. The audit record keeps the explanation, never
the value (``Match.finding`` quotes the masked value only).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

from proctor.model import Finding, Severity
from proctor.vault._classes import DataClass
from proctor.vault._mask import mask


@dataclass(frozen=True, slots=True)
class Match:
    """A sensitive value found in a text: ``text[start:end]``."""

    detector: str
    rule: str
    kind: str
    data_class: DataClass
    start: int
    end: int
    score: float
    explanation: str
    keep_prefix: str = ""

    @property
    def secret(self) -> bool:
        return self.data_class is DataClass.SECRET

    def masked(self, value: str) -> str:
        return mask(self.kind, value, keep_prefix=self.keep_prefix, secret=self.secret)

    def finding(self, text: str, where: str = "") -> Finding:
        """The match as a ``Finding`` whose excerpt is the masked value, never the value."""
        return Finding(
            detector=self.detector,
            span=(self.start, self.end),
            score=self.score,
            severity=Severity.HIGH if self.secret else Severity.MEDIUM,
            explanation=self.explanation,
            rule=self.rule,
            excerpt=self.masked(text[self.start : self.end]),
            where=where,
        )


class ValueDetector(ABC):
    """Base of every value detector. Subclasses declare the class attributes and ``find``."""

    id: ClassVar[str]
    kind: ClassVar[str]  # what the value is: email, card, iban, phone, ssn, ip, secret
    data_class: ClassVar[DataClass]
    description: ClassVar[str]
    validator: ClassVar[staticmethod[[str], bool] | None] = None  # e.g. Luhn, IBAN mod 97
    validator_name: ClassVar[str] = ""

    @abstractmethod
    def find(self, text: str) -> Iterable[Match]:
        """Every value of this detector's kind in ``text``."""

    def validates(self, value: str) -> bool:
        check = type(self).validator
        return True if check is None else check(value)


@dataclass(frozen=True, slots=True)
class SecretRule:
    """One pattern of a secret detector. ``triggers`` are lower-case substrings one of which
    the text must contain for the pattern to run (far cheaper than the regex); ``group`` is
    the part of the match that is the secret; ``keep_prefix`` is what its mask may show."""

    id: str
    pattern: str
    explanation: str
    triggers: tuple[str, ...] = ()
    keep_prefix: str = ""
    group: int = 0
    score: float = 0.95
    ignore_case: bool = False


class SecretDetector(ValueDetector):
    """A detector made of a table of regex rules for credentials of one provider."""

    kind = "secret"
    data_class = DataClass.SECRET
    rules: ClassVar[tuple[SecretRule, ...]]
    _compiled: ClassVar[tuple[re.Pattern[str], ...]]

    @classmethod
    def compiled(cls) -> tuple[re.Pattern[str], ...]:
        if "_compiled" not in cls.__dict__:
            cls._compiled = tuple(
                re.compile(r.pattern, re.IGNORECASE if r.ignore_case else 0) for r in cls.rules
            )
        return cls._compiled

    def find(self, text: str) -> Iterator[Match]:
        low: str | None = None
        for rule, regex in zip(self.rules, self.compiled(), strict=True):
            if rule.triggers:
                low = text.lower() if low is None else low
                if not any(t in low for t in rule.triggers):
                    continue
            for m in regex.finditer(text):
                start, end = m.span(rule.group)
                if start < 0 or end <= start or not self.validates(m.group(rule.group)):
                    continue
                yield Match(
                    self.id,
                    rule.id,
                    self.kind,
                    self.data_class,
                    start,
                    end,
                    rule.score,
                    f"{rule.explanation} (detector {self.id}, rule {rule.id})",
                    rule.keep_prefix,
                )
