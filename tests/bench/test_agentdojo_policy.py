"""Policy declarations built from AgentDojo function schemas (no agentdojo import needed)."""

from __future__ import annotations

import pytest

from proctor.bench._agentdojo_policy import load_suite_policy, tool_args

SCHEMA = {
    "properties": {
        "recipient": {"type": "string"},
        "amount": {"type": "number"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "tags": {"type": "array", "items": {"type": "string"}},
        "perm": {"$ref": "#/$defs/Perm"},
        "n": {"type": "integer", "default": 100},
    },
    "required": ["recipient", "amount", "tags", "perm"],
    "$defs": {"Perm": {"enum": ["r", "rw"], "type": "string"}},
}


def test_tool_args_from_a_json_schema():
    assert tool_args(SCHEMA) == {
        "recipient": {"type": "string"},
        "amount": {"type": "number"},
        "note": {"type": "string", "required": False},
        "tags": {"type": "array", "items": "string"},
        "perm": {"type": "string"},
        "n": {"type": "integer", "required": False},
    }


def test_suite_policy_loads_with_flags_labels_and_roles():
    flags = {
        "pay": {
            "autonomy": "write",
            "flags": ["external", "moves_money"],
            "roles": {"recipient": "account"},
            "output": {"trust": "trusted"},
        }
    }
    pol = load_suite_policy("demo", {"pay": SCHEMA}, flags)
    plan = pol.tools["pay"]
    assert [str(f) for f in plan.spec.flags] == ["external", "moves_money"]
    assert plan.holding_flags == ()  # blanket flag holds are off: the flow rules decide
    assert plan.spec.args["recipient"].role == "account"
    assert plan.spec.output.trust == "trusted"


def test_a_tool_without_flags_is_an_error():
    with pytest.raises(KeyError):
        load_suite_policy("demo", {"pay": SCHEMA}, {})


def test_flow_overrides_are_for_ablations_only():
    flags = {"pay": {"autonomy": "write"}}
    assert load_suite_policy("demo", {"pay": SCHEMA}, flags).spec.flow.instruction_patterns
    off = load_suite_policy("demo", {"pay": SCHEMA}, flags, {"instruction_patterns": False})
    assert off.spec.flow.instruction_patterns is False
