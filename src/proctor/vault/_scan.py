"""``TextScanner``: every sensitive value in a text, once: secrets, PII, and the exact values of
secrets the gate handed to a tool (which no pattern may know)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from proctor.vault._classes import DataClass
from proctor.vault._detector import Match, SecretDetector, ValueDetector
from proctor.vault._pii import PiiScanner, PresidioDetector

KNOWN = "known_secret"
MIN_KNOWN = 4  # shorter resolved secrets are not searched for: they would mask common words


def _known(text: str, values: Iterable[str]) -> list[Match]:
    out: list[Match] = []
    for value in {v for v in values if len(v) >= MIN_KNOWN}:
        start = text.find(value)
        while start >= 0:
            out.append(
                Match(
                    KNOWN,
                    "known.resolved",
                    "secret",
                    DataClass.SECRET,
                    start,
                    start + len(value),
                    1.0,
                    "a secret or credential the gate resolved for this call, echoed back",
                )
            )
            start = text.find(value, start + len(value))
    return out


def resolve_overlaps(matches: Iterable[Match]) -> list[Match]:
    """Non-overlapping matches in text order: secrets first, then the longer, then the surer."""
    ranked = sorted(matches, key=lambda m: (not m.secret, m.start - m.end, -m.score, m.start))
    starts: list[int] = []  # the taken spans, disjoint, sorted by start
    ends: list[int] = []
    taken: dict[int, Match] = {}
    for m in ranked:
        i = bisect.bisect_left(starts, m.end)  # spans starting before m ends
        if i and ends[i - 1] > m.start:
            continue  # the span just before overlaps m (the disjoint spans before it cannot)
        starts.insert(i, m.start)
        ends.insert(i, m.end)
        taken[m.start] = m
    return [taken[s] for s in starts]


class TextScanner:
    """Secret detectors always; PII detectors (Presidio) when given."""

    def __init__(
        self,
        secrets: Sequence[SecretDetector] | None = None,
        pii: Sequence[PresidioDetector] = (),
    ) -> None:
        from proctor.vault.detectors import SECRETS

        self.secrets: tuple[SecretDetector, ...] = (
            tuple(secrets) if secrets is not None else tuple(d() for d in SECRETS)
        )
        self.pii = PiiScanner(pii) if pii else None

    @classmethod
    def default(cls, *, pii: bool) -> TextScanner:
        """Every built-in secret detector, and every built-in PII detector if ``pii``."""
        from proctor.vault.detectors import PII

        return cls(pii=tuple(d() for d in PII) if pii else ())

    @property
    def detectors(self) -> tuple[ValueDetector, ...]:
        return (*self.secrets, *(self.pii.detectors if self.pii else ()))

    def scan(self, text: str, known: Iterable[str] = (), *, pii: bool = True) -> list[Match]:
        """Every sensitive value in ``text``, non-overlapping, in text order; secrets only
        unless ``pii`` (and this scanner has PII detectors)."""
        found: list[Match] = _known(text, known)
        for det in self.secrets:
            found.extend(det.find(text))
        if pii and self.pii is not None:
            found.extend(self.pii.find(text))
        return resolve_overlaps(found)
