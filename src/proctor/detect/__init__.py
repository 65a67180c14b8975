"""Content detectors: injection, jailbreak, hidden and encoded instructions, exfiltration.

::

    registry = DetectorRegistry.default()          # or DetectorRegistry.from_yaml(path)
    findings = registry.scan(text, kind="html")    # list[Finding], each explains itself
    verdict = registry.judge(findings)             # Judgement: hostile, score, near_miss
    session = SessionScore().observe(verdict)      # multi-turn escalation (hold, contain)

In the gate, ``ContentScreen`` applies a policy's ``detectors:`` section: untrusted content is
judged at ingest, call arguments at step 4, and hostile content holds, denies, is stripped or
quarantined as the policy says.

``scan`` and ``check`` use the default registry. A detector that crashes yields an error
finding and the judgement is hostile (fail closed).
"""

from __future__ import annotations

from functools import cache

from proctor.detect._base import Detector, PatternDetector, Rule, ScanContext
from proctor.detect._catalog import BUILTIN
from proctor.detect._document import ContentKind, Document, Segment
from proctor.detect._judge import Judgement, judge
from proctor.detect._registry import DetectorRegistry, error_finding
from proctor.detect._screen import ContentScreen
from proctor.detect._session import Escalation, SessionScore
from proctor.model import Finding, Severity


@cache
def default_registry() -> DetectorRegistry:
    """The packaged default registry, built once."""
    return DetectorRegistry.default()


def scan(text: str, kind: ContentKind | str = ContentKind.AUTO) -> list[Finding]:
    """Scan ``text`` with the default registry."""
    return default_registry().scan(text, kind)


def check(text: str, kind: ContentKind | str = ContentKind.AUTO) -> Judgement:
    """Scan and judge ``text`` with the default registry."""
    return default_registry().check(text, kind)


__all__ = [
    "BUILTIN",
    "ContentKind",
    "ContentScreen",
    "Detector",
    "DetectorRegistry",
    "Document",
    "Escalation",
    "Finding",
    "Judgement",
    "PatternDetector",
    "Rule",
    "ScanContext",
    "Segment",
    "SessionScore",
    "Severity",
    "check",
    "default_registry",
    "error_finding",
    "judge",
    "scan",
]
