"""The registry: which detectors run (from YAML), one scan, and the judgement of its findings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from proctor.detect._base import Detector, ScanContext
from proctor.detect._catalog import BUILTIN
from proctor.detect._document import ContentKind, Document, Segment, json_strings
from proctor.detect._judge import HOSTILE_THRESHOLD, NEAR_MISS_THRESHOLD, Judgement, judge
from proctor.errors import DetectorConfigError
from proctor.model import Finding, Severity, StepStatus

_SETTINGS = ("hostile_threshold", "near_miss_threshold", "max_depth", "max_decoded_chars")


@dataclass
class _Budget:
    remaining: int


class DetectorRegistry:
    """An ordered set of configured detectors and the limits of one scan."""

    def __init__(
        self,
        detectors: Iterable[Detector],
        *,
        hostile_threshold: float = HOSTILE_THRESHOLD,
        near_miss_threshold: float = NEAR_MISS_THRESHOLD,
        max_depth: int = 3,
        max_decoded_chars: int = 65536,
    ) -> None:
        self.detectors = tuple(detectors)
        self.hostile_threshold = hostile_threshold
        self.near_miss_threshold = near_miss_threshold
        self.max_depth = max_depth
        self.max_decoded_chars = max_decoded_chars
        self._rescannable = tuple(d for d in self.detectors if d.rescannable)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.detectors)

    # -- configuration -------------------------------------------------------------------

    @classmethod
    def from_config(cls, data: object, source: str = "<config>") -> DetectorRegistry:
        """Build from a parsed mapping: ``{detectors: {id: {enabled, options...}}, ...}``."""
        if not isinstance(data, Mapping):
            raise DetectorConfigError(source, "", "expected a mapping at the top level")
        unknown = sorted(set(data) - {"detectors", *_SETTINGS})
        if unknown:
            raise DetectorConfigError(source, unknown[0], "unknown setting")
        entries = data.get("detectors")
        if not isinstance(entries, Mapping) or not entries:
            raise DetectorConfigError(source, "detectors", "expected a mapping of detector ids")
        detectors: list[Detector] = []
        for det_id, raw in entries.items():
            opts: dict[str, Any] = dict(raw or {}) if isinstance(raw, Mapping | None) else {}
            if not isinstance(raw, Mapping | None):
                raise DetectorConfigError(source, f"detectors.{det_id}", "expected a mapping")
            if det_id not in BUILTIN:
                known = ", ".join(sorted(BUILTIN))
                raise DetectorConfigError(
                    source, f"detectors.{det_id}", f"unknown detector (known: {known})"
                )
            if not opts.pop("enabled", True):
                continue
            try:
                detectors.append(BUILTIN[det_id](**opts))
            except (TypeError, ValueError) as exc:
                raise DetectorConfigError(source, f"detectors.{det_id}", str(exc)) from None
        settings: dict[str, Any] = {}
        for key in _SETTINGS:
            if key in data:
                value = data[key]
                if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                    raise DetectorConfigError(source, key, f"expected a number >= 0, got {value!r}")
                settings[key] = value
        return cls(detectors, **settings)

    @classmethod
    def from_yaml(cls, config: str | Path) -> DetectorRegistry:
        """Build from a YAML file (a ``Path``) or YAML text (a ``str``)."""
        source = str(config) if isinstance(config, Path) else "<yaml>"
        try:
            text = config.read_text(encoding="utf-8") if isinstance(config, Path) else config
            data = yaml.safe_load(text)
        except (OSError, yaml.YAMLError) as exc:
            raise DetectorConfigError(source, "", f"cannot read YAML: {exc}") from None
        return cls.from_config(data, source)

    @classmethod
    def default(cls) -> DetectorRegistry:
        """The registry described by the packaged ``default.yaml``: every built-in detector."""
        text = resources.files("proctor.detect").joinpath("data/default.yaml").read_text("utf-8")
        return cls.from_config(yaml.safe_load(text), "proctor/detect/data/default.yaml")

    def without(self, *ids: str) -> DetectorRegistry:
        """The same registry without some detectors (for example the classifier)."""
        return DetectorRegistry(
            (d for d in self.detectors if d.id not in ids),
            hostile_threshold=self.hostile_threshold,
            near_miss_threshold=self.near_miss_threshold,
            max_depth=self.max_depth,
            max_decoded_chars=self.max_decoded_chars,
        )

    # -- scanning ------------------------------------------------------------------------

    def scan(self, text: str, kind: ContentKind | str = ContentKind.AUTO) -> list[Finding]:
        """Every finding in ``text``. Never raises for a detector's sake: a crash is an
        ``error`` finding, which ``judge`` treats as hostile."""
        return self.scan_document(Document.parse(text, kind))

    def scan_arguments(self, args: Mapping[str, object]) -> list[Finding]:
        """Every finding in the string values of a tool call's arguments, each ``where`` naming
        the argument's path (``json $.body``, ``json $.recipients[0]``)."""
        segs = [Segment(s, where) for where, s in json_strings(args, "$") if s.strip()]
        return self.scan_document(Document(json.dumps(args, default=str), ContentKind.JSON, segs))

    def scan_document(self, doc: Document) -> list[Finding]:
        return self._run(doc, self.detectors, 0, _Budget(self.max_decoded_chars))

    def judge(self, findings: Iterable[Finding]) -> Judgement:
        return judge(
            findings,
            hostile_threshold=self.hostile_threshold,
            near_miss_threshold=self.near_miss_threshold,
        )

    def check(self, text: str, kind: ContentKind | str = ContentKind.AUTO) -> Judgement:
        """Scan and judge in one call."""
        return self.judge(self.scan(text, kind))

    def _run(
        self, doc: Document, detectors: tuple[Detector, ...], depth: int, budget: _Budget
    ) -> list[Finding]:
        ctx = ScanContext(partial(self._rescan, depth=depth, budget=budget), depth)
        out: list[Finding] = []
        for det in detectors:
            try:
                out.extend(det.detect(doc, ctx))
            except Exception as exc:  # fail closed: a crashed detector is a hostile finding
                out.append(error_finding(det.id, exc))
        return out

    def _rescan(self, text: str, where: str, *, depth: int, budget: _Budget) -> list[Finding]:
        if depth + 1 > self.max_depth or budget.remaining <= 0 or not text.strip():
            return []
        text = text[: budget.remaining]
        budget.remaining -= len(text)
        doc = Document(text, ContentKind.TEXT, [Segment(text, where)], depth + 1)
        return self._run(doc, self._rescannable, depth + 1, budget)


def error_finding(detector: str, exc: BaseException) -> Finding:
    """What a crashed detector leaves: an error finding, judged hostile (fail closed)."""
    return Finding(
        detector=detector,
        span=(0, 0),
        score=1.0,
        severity=Severity.HIGH,
        explanation=(
            f"detector failed ({type(exc).__name__}: {exc}); the text is treated as hostile "
            "(fail closed)"
        ),
        rule="error",
        status=StepStatus.ERROR,
    )
