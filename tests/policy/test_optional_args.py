"""Optional arguments that were not passed are absent from CEL's ``args``, not null."""

from __future__ import annotations

import pytest

from proctor.model import Environment, Verdict
from proctor.policy import DecisionRequest, evaluate, load_policy_text

POLICY = load_policy_text(
    """
version: 1
agent: {name: bot, role: r, owner: o}
environments: {dev: {max_autonomy: write}}
tools:
  note:
    autonomy: write
    args:
      text: string
      cc: {type: string, required: false}
      priority: {type: integer, required: false, default: 3}
    constraints:
      - {id: cc.outside, when: 'has(args.cc) && !args.cc.endsWith("@acme.test")', verdict: hold}
      - {id: priority.high, when: args.priority < 2, verdict: hold}
      - {id: cc.bare, when: 'args.cc == "x@evil.test"', verdict: deny}
""",
    "optional.yaml",
)


def decide(args: dict[str, object]) -> tuple[Verdict, tuple[str, ...]]:
    d = evaluate(POLICY, DecisionRequest("note", args, "bot", Environment.DEV, usage={}))
    return d.verdict, d.rule_ids


@pytest.mark.parametrize(
    ("args", "verdict", "rule"),
    [
        ({"text": "t", "cc": "a@acme.test"}, Verdict.ALLOW, None),
        ({"text": "t", "cc": "a@other.test"}, Verdict.HOLD, "cc.outside"),
        ({"text": "t", "cc": "a@acme.test", "priority": 1}, Verdict.HOLD, "priority.high"),
        ({"text": "t", "cc": "x@evil.test"}, Verdict.DENY, "cc.bare"),
        # cc absent: has() is false, but a rule that reads args.cc bare errors and denies
        ({"text": "t"}, Verdict.DENY, "cc.bare"),
    ],
    ids=["cc-inside", "cc-outside", "default-overridden", "cc-denied", "absent-read-bare"],
)
def test_optional_arguments(args, verdict, rule):
    got, rules = decide(args)
    assert got is verdict
    if rule:
        assert rule in rules


def test_a_non_null_default_is_visible_to_cel():
    d = evaluate(
        POLICY,
        DecisionRequest("note", {"text": "t", "cc": "a@acme.test"}, "bot", Environment.DEV),
    )
    assert d.verdict is Verdict.ALLOW  # priority defaults to 3: priority.high does not match


@pytest.mark.parametrize(
    "args",
    [{"text": "t", "cc": None}, {"text": "t", "cc": None, "priority": 3}],
    ids=["null-cc", "null-cc-default-given"],
)
def test_explicit_null_is_the_same_as_omitted(args):
    """Model tool calls often send null for optional parameters; null must not count as given
    (fail-open: `!has(args.memo)` rules) nor crash `has(args.cc) && size(args.cc)` rules."""
    with_null = evaluate(POLICY, DecisionRequest("note", args, "bot", Environment.DEV, usage={}))
    omitted = evaluate(
        POLICY, DecisionRequest("note", {"text": "t"}, "bot", Environment.DEV, usage={})
    )
    assert with_null.verdict is omitted.verdict
    assert with_null.rule_ids == omitted.rule_ids


ENUMS = load_policy_text(
    """
version: 1
agent: {name: bot, role: r, owner: o}
environments: {dev: {max_autonomy: write}}
tools:
  quote:
    autonomy: write
    args:
      term: {type: integer, enum: [12, 24, 36]}
      plan: {type: string, enum: [basic, pro]}
      rate: {type: number, enum: [0.5, 1]}
""",
    "enums.yaml",
)


@pytest.mark.parametrize(
    ("args", "ok"),
    [
        ({"term": 36, "plan": "pro", "rate": 0.5}, True),
        ({"term": 36, "plan": "pro", "rate": 1}, True),
        ({"term": 36.0, "plan": "pro", "rate": 0.5}, False),
        ({"term": True, "plan": "pro", "rate": 0.5}, False),
        ({"term": 36, "plan": "pro", "rate": True}, False),
        ({"term": 48, "plan": "pro", "rate": 0.5}, False),
        ({"term": 36, "plan": "PRO", "rate": 0.5}, False),
    ],
    ids=[
        "exact",
        "int-for-number",
        "float-for-integer",
        "bool-for-integer",
        "bool-for-number",
        "off-enum",
        "case",
    ],
)
def test_enum_values_must_also_have_the_declared_type(args, ok):
    d = evaluate(ENUMS, DecisionRequest("quote", args, "bot", Environment.DEV, usage={}))
    assert (d.verdict is Verdict.ALLOW) is ok
