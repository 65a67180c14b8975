"""PII detection with Presidio's analyzer, regex recognizers only.

No spaCy model is available offline, so the analyzer runs on Presidio's no-op NLP engine: no
model is loaded, no named entities are guessed, only patterns with validators match. The email
recognizer validates domains with ``tldextract`` on the public suffix list that tldextract
ships (its snapshot), never fetching one: ``suffix_list_urls=()``, ``cache_dir=None``. A test
runs the scanner with sockets disabled.

Presidio (and the spaCy it depends on) are imported only when a scanner is built: install
``proctor[pii]``. Without it, building one raises ``DataAccessError`` (fail closed).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from proctor.errors import DataAccessError
from proctor.vault._detector import Match, ValueDetector
from proctor.vault._windows import windows

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer

LANGUAGE = "en"
MIN_SCORE = 0.3  # Presidio's "very weak" patterns (any nine digits for an SSN) score 0.05


@cache
def offline_tld_extractor() -> Any:
    """A ``tldextract.TLDExtract`` that reads only the suffix list tldextract bundles."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class PresidioDetector(ValueDetector):
    """A PII detector backed by a Presidio recognizer for one entity type. ``trigger`` is a
    cheap pattern that must match somewhere in the text for the recognizer to run."""

    entity: ClassVar[str]
    trigger: ClassVar[re.Pattern[str]]
    _own: PiiScanner | None = None

    @abstractmethod
    def recognizer(self) -> EntityRecognizer:
        """The Presidio recognizer (imports Presidio)."""

    def find(self, text: str) -> Iterable[Match]:
        if self._own is None:
            self._own = PiiScanner([self])
        return self._own.find(text)


def _analyzer(detectors: Sequence[PresidioDetector]) -> AnalyzerEngine:
    try:
        from presidio_analyzer import AnalyzerEngine, ContextAwareEnhancer, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError as exc:
        raise DataAccessError(
            f"PII detection needs Presidio: pip install 'proctor[pii]' ({exc})"
        ) from None

    class NoContext(ContextAwareEnhancer):
        """The no-op NLP engine yields no tokens, so no context word can ever be found; the
        default enhancer would only deep-copy every result (a third of the analysis time)."""

        def enhance_using_context(self, text: str, raw_results: Any, *args: Any, **kw: Any) -> Any:
            return raw_results

    nlp = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}])
    nlp.load()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for det in detectors:
        registry.add_recognizer(det.recognizer())
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp,
        supported_languages=[LANGUAGE],
        context_aware_enhancer=NoContext(0, 0, 0, 0),
    )


class PiiScanner:
    """Runs a set of Presidio-backed detectors over texts through one ``AnalyzerEngine``."""

    def __init__(self, detectors: Sequence[PresidioDetector]) -> None:
        self.detectors = tuple(detectors)
        self._by_entity = {d.entity: d for d in self.detectors}
        if len(self._by_entity) != len(self.detectors):
            raise DataAccessError("two PII detectors claim the same Presidio entity")
        self.engine = _analyzer(self.detectors)

    def find(self, text: str) -> list[Match]:
        """Every PII value in ``text``. The analyzer runs only on windows around the hits of
        the detectors' triggers, each window for the entities triggered in it."""
        hits: list[tuple[int, int, str]] = []
        for det in self.detectors:
            hits += [(m.start(), m.end(), det.entity) for m in det.trigger.finditer(text)]
        if not hits:
            return []
        out: list[Match] = []
        for start, end in windows(text, [(s, e) for s, e, _ in hits]):
            entities = sorted({ent for s, e, ent in hits if s >= start and e <= end})
            out += self._analyze(text[start:end], start, entities)
        return out

    def _analyze(self, text: str, offset: int, entities: list[str]) -> list[Match]:
        results = self.engine.analyze(
            text=text,
            language=LANGUAGE,
            entities=entities,
            score_threshold=MIN_SCORE,
            return_decision_process=True,
        )
        out: list[Match] = []
        for res in results:
            det = self._by_entity.get(res.entity_type)
            if det is None:
                continue
            value = text[res.start : res.end]
            if not det.validates(value):
                continue
            why = res.analysis_explanation
            how = why.textual_explanation if why is not None else f"Presidio {res.entity_type}"
            check = f"; {det.validator_name} holds" if det.validator_name else ""
            out.append(
                Match(
                    det.id,
                    f"presidio.{res.entity_type}",
                    det.kind,
                    det.data_class,
                    offset + res.start,
                    offset + res.end,
                    float(res.score),
                    f"{det.description} {how} (score {res.score:.2f}{check})",
                )
            )
        return out
