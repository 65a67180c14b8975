"""The learned classifier: a linear model over hashed n-grams, trained offline, run on the CPU.

It catches paraphrases that no rule names. Its probability is mapped so that the decision
threshold chosen at training time lands on the registry's hostile threshold (0.7): a text just
below the threshold is a near miss, which the session score counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import ClassVar

from proctor.detect._base import Detector, ScanContext
from proctor.detect._document import Document
from proctor.detect._linear import LinearModel
from proctor.model import Finding, Severity

HOSTILE = 0.7


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
            if len(seg.text.strip()) < 12:
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
