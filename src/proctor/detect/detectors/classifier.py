"""The learned classifier: a linear model over hashed n-grams, trained offline, run on the CPU.

It catches paraphrases that no rule names. Its probability is mapped so that the decision
threshold chosen at training time lands on the registry's hostile threshold (0.7): a text just
below the threshold is a near miss, which the session score counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import ClassVar

from proctor.detect._base import Detector, ScanContext
from proctor.detect._document import Document
from proctor.detect._linear import LinearModel
from proctor.model import Finding, Severity

HOSTILE = 0.7
# One ASCII token of under 24 characters (a schema title, a property name, an id) is not scored: its
# few hashed n-grams say nothing about intent, and the model's scores there are noise (a tool
# definition's "refundOutput" came out a near miss). The rules still read it.
_TOKEN = re.compile(r"[\x21-\x7e]{1,23}")


class InjectionClassifier(Detector):
    id = "injection.classifier"
    description = (
        "A linear model over hashed character and word n-grams, trained offline on jailbreak "
        "and injection prompts and on benign business text (see docs/detectors.md)."
    )
    severity = Severity.HIGH
    options: ClassVar[Mapping[str, float | int | str | bool]] = {"threshold": 0.0, "floor": 0.35}

    @cached_property
    def model(self) -> LinearModel:
        return LinearModel.builtin()

    def calibrate(self, p: float) -> float:
        """Map a probability so that the model's threshold becomes the hostile score."""
        t = float(self.config["threshold"]) or self.model.threshold
        if p < t:
            return HOSTILE * p / t
        return HOSTILE + (1 - HOSTILE) * (p - t) / (1 - t)

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        for seg in doc.segments:
            text = seg.text.strip()
            if len(text) < 12 or _TOKEN.fullmatch(text):
                continue
            p = self.model.probability(seg.text)
            score = self.calibrate(p)
            if score >= float(self.config["floor"]):
                yield self.finding(
                    seg,
                    0,
                    len(seg.text),
                    f"the learned classifier rates this text {p:.1%} likely to be a prompt "
                    f"injection or jailbreak",
                    score=score,
                    rule="linear-ngram",
                    severity=Severity.HIGH if score >= HOSTILE else Severity.LOW,
                )
