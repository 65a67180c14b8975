"""The detectors on a tool definition, before an operator approves it.

Every string a model may read in the definition (see ``texts``) is scanned by the content
detectors (injection rules and classifier, hidden and encoded instructions, invisible Unicode)
and by two rules for definitions (``tool.poisoning``, ``tool.invisible``). Each finding's
``where`` names the field (``description``, ``inputSchema.properties.notes.description``).
A detector that crashes is an error finding: approving then needs ``accept_findings`` too
(fail closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from proctor.detect import DetectorRegistry, default_registry
from proctor.model import Finding
from proctor.pins._definition import texts
from proctor.pins._invisible import InvisibleCharacters
from proctor.pins._poisoning import ToolPoisoning


@cache
def definition_registry() -> DetectorRegistry:
    """The default registry plus the two rules for tool definitions."""
    base = default_registry()
    return DetectorRegistry(
        [*base.detectors, ToolPoisoning(), InvisibleCharacters()],
        hostile_threshold=base.hostile_threshold,
        near_miss_threshold=base.near_miss_threshold,
        max_depth=base.max_depth,
        max_decoded_chars=base.max_decoded_chars,
    )


def scan_definition(
    defn: Mapping[str, Any], registry: DetectorRegistry | None = None
) -> list[Finding]:
    """Every finding in the strings of ``defn``, strongest first."""
    reg = registry or definition_registry()
    seen: set[str] = set()
    out: list[Finding] = []
    for where, text in texts(defn):
        if text in seen:
            continue
        seen.add(text)
        for f in reg.scan(text):
            out.append(replace(f, where=f"{where} > {f.where}" if f.where else where))
    out.sort(key=lambda f: (-f.score, f.where, f.detector))
    return out
