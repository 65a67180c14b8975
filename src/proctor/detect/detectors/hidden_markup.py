"""Hidden markup: text a reader does not see (HTML comments, display:none, white or zero-size
text, alt/title/aria-label) — reported, and judged hostile when it carries instructions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from proctor.detect._base import Detector, ScanContext
from proctor.detect._document import Document
from proctor.model import Finding, Severity


class HiddenMarkup(Detector):
    id = "hidden.markup"
    description = (
        "Text hidden from the reader in HTML or Markdown (comments, display:none, "
        "visibility:hidden, white-on-white or zero-size text, alt/title/aria-label): noted, "
        "and flagged when the pattern detectors find instructions in it."
    )
    severity = Severity.HIGH
    options: ClassVar[Mapping[str, float | int | str | bool]] = {"min_letters": 40}

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        min_letters = int(self.config["min_letters"])
        for seg in doc.segments:
            if not seg.hidden:
                continue
            inner = ctx.rescan(seg.text, f"{seg.where} (hidden)")
            if inner:
                worst = max(inner, key=lambda f: f.score)
                yield self.finding(
                    seg,
                    0,
                    len(seg.text),
                    f"text hidden by {seg.why_hidden} carries instructions: {worst.explanation}",
                    score=max(0.9, worst.score),
                    rule="instructions",
                )
            elif " @" not in seg.where and (sum(c.isalpha() for c in seg.text) >= min_letters):
                yield self.finding(
                    seg,
                    0,
                    len(seg.text),
                    f"{len(seg.text)} characters of text hidden by {seg.why_hidden}",
                    score=0.2,
                    rule="hidden-text",
                    severity=Severity.INFO,
                )
