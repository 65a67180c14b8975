"""``size(args.x)`` of a list or map is computed in Python (CEL gets ``_size_x``): the
verdicts must be the ones the original expression gives, for every value; the big list is never
converted into CEL."""

from __future__ import annotations

import cel
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.model import Environment, Verdict
from proctor.policy import DecisionRequest, evaluate, load_policy_text

EXPRESSIONS = {
    "ids.big": "size(args.ids) > 3",
    "ids.method": "args.ids.size() >= 2 && args.ids.exists(i, i == 'x')",
    "name.short": "size(args.name) < 4",
    "meta.two": "size(args.meta) == 2 || size(args.ids) == 0",
    "note.len": "has(args.note) && size(args.note) > 2",
}

POLICY = load_policy_text(
    "version: 1\nagent: {name: bot, role: r, owner: o}\n"
    "environments: {dev: {max_autonomy: write}}\ntools:\n  t:\n    autonomy: write\n"
    "    args:\n      ids: {type: array, items: string}\n      name: string\n"
    "      meta: object\n      note: {type: string, required: false}\n    constraints:\n"
    + "".join(
        f'      - {{id: {rid}, when: "{expr}", verdict: hold}}\n'
        for rid, expr in EXPRESSIONS.items()
    ),
    "sizes.yaml",
)


def test_size_only_arguments_are_not_handed_to_cel():
    plan = POLICY.tools["t"]
    assert plan.cel_size_args == {"ids", "meta"}  # lists and maps; strings stay with CEL
    assert plan.cel_flat_args == {"ids", "name", "note"}  # ids.method also reads the elements
    assert plan.cel_has_args == {"note"}
    assert plan.cel_args == frozenset()  # every expression was flattened: no args map at all
    by_id = {c.id: c.expression for c in plan.constraints}
    assert by_id["ids.big"].value_args == ()
    assert by_id["ids.big"].args == ("ids",)  # still what the rule saw, for the audit


text = st.text(alphabet=st.sampled_from(["x", "y", "é", "字", "👍", " "]), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    ids=st.lists(st.sampled_from(["x", "y", "z"]), max_size=6),
    name=text,
    meta=st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3), max_size=3),
    note=st.one_of(st.none(), text),
)
def test_rewritten_sizes_match_cel(ids, name, meta, note):
    args: dict[str, object] = {"ids": ids, "name": name, "meta": meta}
    if note is not None:
        args["note"] = note
    decision = evaluate(POLICY, DecisionRequest("t", args, "bot", Environment.DEV, usage={}))
    expected = {rid for rid, expr in EXPRESSIONS.items() if cel.evaluate(expr, {"args": args})}
    held = {h.rule_id for h in decision.hits if h.verdict is Verdict.HOLD} - {"flags.t"}
    assert held == expected
    assert decision.verdict is (Verdict.HOLD if expected else Verdict.ALLOW)
