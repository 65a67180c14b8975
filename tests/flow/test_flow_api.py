"""The public names of ``proctor.flow``. Changing the list is a decision: update it on purpose."""

from __future__ import annotations

import proctor.flow

PUBLIC = [
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


def test_all_is_pinned():
    assert list(proctor.flow.__all__) == PUBLIC


def test_every_name_resolves():
    assert [n for n in PUBLIC if not hasattr(proctor.flow, n)] == []


def test_the_gate_installs_flow_control_first(gate):
    assert isinstance(gate.hooks[0], proctor.flow.FlowControl)
    assert gate.hooks[0] is gate.flow
