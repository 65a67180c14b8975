"""Helpers: scan with the default registry and keep one detector's findings."""

from __future__ import annotations

from proctor.detect import DetectorRegistry, Finding, default_registry

RULES = default_registry().without("injection.classifier")


def found(detector: str, text: str, kind: str = "auto", registry: DetectorRegistry = RULES):
    """The findings of ``detector`` when the registry scans ``text``."""
    return [f for f in registry.scan(text, kind) if f.detector == detector]


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}
