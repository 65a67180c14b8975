"""Flattened expressions (``args.x`` as ``_arg_x``, ``has(args.x)`` as ``_has_x``) decide
exactly as the original CEL does, for present, absent and null arguments alike, including
where an absent argument makes the original raise (both fail closed)."""

from __future__ import annotations

import cel
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model import Environment, Step, StepStatus, Verdict
from proctor.policy import DecisionRequest, evaluate, load_policy_text

EXPRESSIONS = {
    "a.big": "args.a > 10",
    "guarded": "has(args.b) && args.b.endsWith('@x.test')",
    "unguarded": "args.b.startsWith('z') || args.a < 0",
    "reversed": "args.b.endsWith('q') && has(args.b)",
    "index": "args['a'] == 3 || !has(args.c)",
    "list": "has(args.c) && args.c.exists(v, v == 'k') && size(args.c) > 1",
    "absorbed": "args.c.size() > 2 || args.a == 7",
    "tenant": "tenant == 't2' && args.a != 0",
}

POLICY = load_policy_text(
    "version: 1\nagent: {name: bot, role: r, owner: o}\n"
    "environments: {dev: {max_autonomy: write}}\ntools:\n  t:\n    autonomy: write\n"
    "    args:\n      a: integer\n      b: {type: string, required: false}\n"
    "      c: {type: array, items: string, required: false}\n    constraints:\n"
    + "".join(f'      - {{id: {r}, when: "{e}", verdict: hold}}\n' for r, e in EXPRESSIONS.items()),
    "flat.yaml",
)


def test_every_expression_here_is_flattened():
    assert all(c.expression.flat for c in POLICY.tools["t"].constraints)
    assert POLICY.tools["t"].cel_args == frozenset()


def _original(expr: str, args: dict[str, object], tenant: str) -> bool | None:
    """What the original expression gives on the args map; None when it raises."""
    try:
        out = cel.evaluate(expr, {"args": args, "tenant": tenant})
    except Exception:
        return None
    return out if isinstance(out, bool) else None


@settings(max_examples=400, deadline=None)
@given(
    a=st.integers(-3, 15),
    b=st.one_of(st.none(), st.sampled_from(["z@x.test", "q", "aq", "zz", "me@x.test", ""])),
    c=st.one_of(st.none(), st.lists(st.sampled_from(["k", "j"]), max_size=4)),
    tenant=st.sampled_from(["t1", "t2"]),
)
def test_flattened_rules_decide_as_cel_does(a, b, c, tenant):
    args: dict[str, object] = {"a": a, "b": b, "c": c}
    present = {k: v for k, v in args.items() if v is not None}  # null is the same as absent
    decision = evaluate(
        POLICY, DecisionRequest("t", args, "bot", Environment.DEV, tenant=tenant, usage={})
    )
    expected = {r: _original(e, present, tenant) for r, e in EXPRESSIONS.items()}
    limits = decision.step(Step.LIMITS)
    assert limits is not None
    by_rule = {h.rule_id: h.verdict for h in limits.hits}
    for rule, want in expected.items():
        if want is None:  # the original raises: the rule denies, fail closed
            assert by_rule.get(rule) is Verdict.DENY, rule
        elif want:
            assert by_rule.get(rule) is Verdict.HOLD, rule
        else:
            assert rule not in by_rule, rule
    errored = any(v is None for v in expected.values())
    assert (limits.status is StepStatus.ERROR) is errored
