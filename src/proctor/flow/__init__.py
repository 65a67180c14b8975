"""Flow control: labels, provenance, value matching and flow rules (step 4 of the gate).

``FlowControl`` is the gate hook; ``Gate.ingest`` labels content through it, and every tool
output the gate executes is ingested automatically with the tool's declared output labels.
"""

from __future__ import annotations

from proctor.flow._control import FlowControl
from proctor.flow._index import Content, FlowStore, InMemoryFlowStore, Piece
from proctor.flow._ingest import Labeled
from proctor.flow._instructions import instruction_like
from proctor.flow._labels import Confidentiality, Label, Provenance, SourceKind, Trust
from proctor.flow._normalize import canonical_value, compact, normalize
from proctor.flow._provenance import Traced, trace
from proctor.flow._rules import role_of
from proctor.flow._values import Found, extract

__all__ = [
    "Confidentiality",
    "Content",
    "FlowControl",
    "FlowStore",
    "Found",
    "InMemoryFlowStore",
    "Label",
    "Labeled",
    "Piece",
    "Provenance",
    "SourceKind",
    "Traced",
    "Trust",
    "canonical_value",
    "compact",
    "extract",
    "instruction_like",
    "normalize",
    "role_of",
    "trace",
]
