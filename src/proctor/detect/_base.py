"""The detector base: a real ABC, declared by class attributes, one detector per module.

A detector has an ``id`` (what the registry and the YAML call it), a ``description``, a default
``severity`` and, for pattern detectors, a table of ``rules``. It reads a ``Document`` and yields
``Finding`` values; it never raises on purpose (the registry turns a crash into an error
finding, which is judged hostile). ``rescannable`` detectors also run on decoded layers
(base64, hex, rot13, ...) when the encoded-content detector asks for a rescan.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

from proctor.detect._document import ContentKind, Document, Segment
from proctor.detect._literal import INDEX, finditer_at, starts
from proctor.detect._text import excerpt
from proctor.model import Finding, Severity

Rescan = Callable[[str, str], list[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern of a pattern detector: its id, regex, score and why it matters."""

    id: str
    pattern: str
    explanation: str
    score: float = 0.9
    severity: Severity | None = None  # None: the detector's default
    triggers: tuple[str, ...] = ()  # lower-case substrings, one of which a match must contain
    unless_before: tuple[str, ...] = ()  # a match right after one of these does not count


@dataclass(frozen=True, slots=True)
class ScanContext:
    """What the registry gives a detector besides the document: a bounded rescan."""

    rescan: Rescan
    depth: int = 0


def _no_rescan(text: str, where: str) -> list[Finding]:
    return []


NO_RESCAN = ScanContext(_no_rescan)


class Detector(ABC):
    """Base class of every detector. Subclasses declare the class attributes and ``detect``."""

    id: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity] = Severity.MEDIUM
    rescannable: ClassVar[bool] = False
    options: ClassVar[Mapping[str, float | int | str | bool]] = {}

    def __init__(self, **options: float | int | str | bool) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)} (known: {known})")
        self.config: dict[str, float | int | str | bool] = {**self.options, **options}

    @abstractmethod
    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        """Yield what this detector finds in ``doc``."""

    def finding(
        self,
        seg: Segment,
        start: int,
        end: int,
        explanation: str,
        *,
        score: float,
        rule: str = "",
        severity: Severity | None = None,
    ) -> Finding:
        """A finding on ``seg.text[start:end]``, quoting it in the excerpt."""
        return Finding(
            detector=self.id,
            span=(start, end),
            score=score,
            severity=self.severity if severity is None else severity,
            explanation=explanation,
            rule=rule,
            excerpt=excerpt(seg.text, start, end),
            where=seg.where,
        )


class PatternDetector(Detector):
    """A detector made of a table of regex rules, matched on the normalized, lower-cased text.

    Rule patterns are written in lower case (a test checks it). A rule runs only when the text
    contains one of its ``triggers`` (a substring test, far cheaper than a regex), and a match
    preceded by one of its ``unless_before`` words ("not ", "never ") is dropped. A match is
    mapped back to the original text's offsets and explained by its rule.

    Most rules are also *gated* by the literals their matches start with (derived from the
    pattern, see ``_literal``): one pass over the text finds where the literals of every rule
    occur, and a gated rule is tried only at those positions, never when there is none.
    """

    rules: ClassVar[tuple[Rule, ...]]
    rescannable = True
    json_source: ClassVar[bool] = False  # also match a JSON document's own text, not only values
    _regexes: ClassVar[tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]]
    _gated: ClassVar[tuple[bool, ...]]
    _ungated: ClassVar[tuple[int, ...]]  # the rules always tried (their triggers permitting)

    def __init__(self, **options: float | int | str | bool) -> None:
        super().__init__(**options)
        # Registered when built (with the registry), so that the shared gate is compiled once
        # for all the detectors, not again as each one first runs.
        type(self).register()

    @classmethod
    def register(cls) -> None:
        """Register the rules' literal prefixes with the shared gate (once per class)."""
        if "_gated" not in cls.__dict__:
            gated = []
            for i, rule in enumerate(cls.rules):
                prefixes = starts(rule.pattern, re.MULTILINE)  # None, never an error
                if prefixes is not None:
                    INDEX.add((cls, i), prefixes)
                gated.append(prefixes is not None)
            cls._ungated = tuple(i for i, g in enumerate(gated) if not g)
            cls._gated = tuple(gated)

    @classmethod
    def regexes(cls) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
        """Per rule: the pattern for lower-cased text, and a case-insensitive fallback (the
        first call also registers the rules with the shared gate, if not done yet)."""
        if "_regexes" not in cls.__dict__:
            cls.register()
            cls._regexes = tuple(
                (re.compile(r.pattern, re.MULTILINE), re.compile(r.pattern, re.M | re.I))
                for r in cls.rules
            )
        return cls._regexes

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        regexes = self.regexes()
        segments = doc.segments
        if self.json_source and doc.kind is ContentKind.JSON:
            segments = [*segments, Segment(doc.source, "json document")]
        cls, rules = type(self), self.rules
        for seg in segments:
            norm, low = seg.norm, seg.lowered
            same = len(low) == len(norm.text)  # lower() kept every offset (it almost always does)
            hits = seg.literal_hits(INDEX) if same else None
            if hits is None:
                order: Iterable[int] = range(len(rules))
            else:  # the ungated rules, and the gated ones whose literals occur in the text
                order = sorted([*(i for group, i in hits if group is cls), *self._ungated])
            for i in order:
                rule, (fast, slow) = rules[i], regexes[i]
                positions = hits.get((cls, i)) if hits is not None else None
                if rule.triggers and not any(t in low for t in rule.triggers):
                    continue
                if positions is not None:
                    matches = finditer_at(fast, low, positions)
                else:
                    matches = fast.finditer(low) if same else slow.finditer(norm.text)
                for m in matches:
                    if rule.unless_before and low[max(0, m.start() - 12) : m.start()].endswith(
                        rule.unless_before
                    ):
                        continue
                    start, end = norm.origin(m.start(), m.end())
                    quote = excerpt(seg.text, start, end)
                    yield self.finding(
                        seg,
                        start,
                        end,
                        f"{rule.explanation}: “{quote}”{_hidden_note(seg)}",
                        score=rule.score,
                        rule=rule.id,
                        severity=rule.severity,
                    )


def _hidden_note(seg: Segment) -> str:
    return f" (in text hidden by {seg.why_hidden})" if seg.hidden else ""
