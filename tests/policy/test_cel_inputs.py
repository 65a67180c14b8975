"""The engine hands CEL only what the constraints read; every kind of reference still works."""

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
  t:
    autonomy: write
    args: {a: integer, b: {type: string, required: false}, body: string}
    constraints:
      - {id: whole, when: 'size(args) > 2', verdict: hold}
      - {id: by-index, when: 'args["a"] > 5', verdict: deny}
      - {id: tenant, when: 'tenant == "evil" && env == "dev"', verdict: deny}
      - {id: principal, when: 'principal.startsWith("bot:")', verdict: hold}
  u:
    autonomy: write
    args: {a: integer, body: string}
    constraints:
      - {id: u.a, when: 'args.a > 5', verdict: deny}
""",
    "inputs.yaml",
)


@pytest.mark.parametrize(
    ("tool", "args", "tenant", "principal", "verdict", "rule"),
    [
        ("t", {"a": 1, "body": "x"}, "acme", "u", Verdict.ALLOW, None),
        ("t", {"a": 1, "b": "y", "body": "x"}, "acme", "u", Verdict.HOLD, "whole"),
        ("t", {"a": 9, "body": "x"}, "acme", "u", Verdict.DENY, "by-index"),
        ("t", {"a": 1, "body": "x"}, "evil", "u", Verdict.DENY, "tenant"),
        ("t", {"a": 1, "body": "x"}, "acme", "bot:7", Verdict.HOLD, "principal"),
        ("u", {"a": 9, "body": "x" * 20000}, "acme", "u", Verdict.DENY, "u.a"),
    ],
    ids=["none", "size-of-whole-args", "index-form", "tenant-and-env", "principal", "field"],
)
def test_every_reference_kind_reaches_cel(tool, args, tenant, principal, verdict, rule):
    req = DecisionRequest(
        tool, args, "bot", Environment.DEV, principal=principal, tenant=tenant, usage={}
    )
    d = evaluate(POLICY, req)
    assert d.verdict is verdict
    if rule:
        assert rule in d.rule_ids


def test_plans_record_what_their_constraints_read():
    t, u = POLICY.tools["t"], POLICY.tools["u"]
    assert t.cel_args is None  # size(args) needs all of them, as a map
    assert t.cel_variables == {"args", "tenant", "env", "principal"}
    assert u.cel_args == frozenset()  # no expression of u reads the args map...
    assert u.cel_flat_args == {"a"}  # ...only args.a, as a top-level variable
    assert u.cel_variables == frozenset()  # the 20 KB body is never converted
