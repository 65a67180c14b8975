"""Adversarial properties of ``evaluate``: it never raises, never allows what the schema rejects,
decides refunds exactly by their thresholds, and is a pure function."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.model import Environment, Step, Verdict
from proctor.policy import evaluate

from ._texts import MAIN, REFUND, doc, load, request

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCHEMA = load(
    doc(
        """\
        tools:
          t:
            autonomy: write
            flags: [external]
            args:
              amount: number
              currency: {type: string, enum: [USD, EUR]}
              note: {type: string, required: false, max_length: 20}
              tags: {type: array, items: string, required: false}
            constraints:
              - {id: t.big, when: args.amount > 50.0, verdict: hold}
              - {id: t.tagged, when: "args.tags != null && 'x' in args.tags", verdict: deny}
        """
    )
)
KEYS = ("amount", "currency", "note", "tags")

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Mostly near-valid calls, so that the interesting boundary is explored, plus arbitrary dicts.
near_valid = st.fixed_dictionaries(
    {
        "amount": st.floats() | st.integers() | json_values,
        "currency": st.sampled_from(["USD", "EUR", "usd", "BTC", ""]) | json_values,
    },
    optional={
        "note": st.none() | st.text(max_size=25) | json_values,
        "tags": st.none() | st.lists(st.text(max_size=3), max_size=3) | json_values,
        "extra": json_values,
    },
)
arbitrary = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), json_values, max_size=6)
args_strategy = near_valid | arbitrary


def is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return False
        return True
    return isinstance(value, float) and math.isfinite(value)


def schema_valid(args: dict[str, object]) -> bool:
    """An oracle for the tool's declared schema, written independently of Pydantic."""
    if set(args) - set(KEYS) or not {"amount", "currency"} <= set(args):
        return False
    note, tags = args.get("note"), args.get("tags")
    return (
        is_number(args["amount"])
        and args["currency"] in ("USD", "EUR")
        and isinstance(args["currency"], str)
        and (note is None or (isinstance(note, str) and len(note) <= 20))
        and (tags is None or (isinstance(tags, list) and all(isinstance(t, str) for t in tags)))
    )


@SETTINGS
@given(args=args_strategy)
def test_never_raises_and_never_allows_what_the_schema_rejects(args: dict[str, object]) -> None:
    decision = evaluate(SCHEMA, request("t", args))
    resolve = decision.step(Step.RESOLVE)
    assert resolve is not None
    if schema_valid(args):
        assert resolve.verdict is Verdict.ALLOW
    else:
        assert decision.verdict is Verdict.DENY
        assert decision.rule_ids == ("schema.t",)


@SETTINGS
@given(
    tool=st.sampled_from(["t", "T", "", "t "]) | st.text(max_size=12),
    agent=st.sampled_from(["bot", "Bot", ""]) | st.text(max_size=8),
    env=st.sampled_from(list(Environment)),
    args=args_strategy,
    usage=st.none() | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
def test_never_raises_for_any_request(
    tool: str, agent: str, env: Environment, args: dict[str, object], usage: dict[str, int] | None
) -> None:
    decision = evaluate(SCHEMA, request(tool, args, agent=agent, env=env, usage=usage))
    assert decision.verdict in Verdict
    if tool != "t" or agent != "bot" or env is not Environment.DEV:
        assert decision.verdict is Verdict.DENY


REFUND_POLICY = load(REFUND)


def expected_refund_verdict(amount: float | int) -> Verdict:
    if not is_number(amount):
        return Verdict.DENY  # NaN and ±inf are not JSON numbers: rejected by the schema
    if amount > 1000:
        return Verdict.DENY
    if amount > 100:
        return Verdict.HOLD
    return Verdict.ALLOW


@SETTINGS
@given(amount=st.floats() | st.integers())
def test_refund_verdict_follows_the_thresholds_exactly(amount: float | int) -> None:
    decision = evaluate(REFUND_POLICY, request("refund", {"amount": amount}))
    assert decision.verdict is expected_refund_verdict(amount)
    if not is_number(amount):
        assert decision.rule_ids == ("schema.refund",)


@SETTINGS
@given(
    amount=st.sampled_from(
        [100.0, math.nextafter(100.0, math.inf), 1000.0, math.nextafter(1000.0, math.inf), 100, 101]
    )
    | st.floats(min_value=99.0, max_value=1001.0)
)
def test_refund_thresholds_at_the_edges(amount: float | int) -> None:
    decision = evaluate(REFUND_POLICY, request("refund", {"amount": amount}))
    assert decision.verdict is expected_refund_verdict(amount)


def test_nan_never_allows() -> None:
    for value in (math.nan, -math.nan, math.inf, -math.inf):
        assert evaluate(REFUND_POLICY, request("refund", {"amount": value})).verdict is Verdict.DENY


MAIN_POLICY = load(MAIN)
MAIN_COPY = load(MAIN)
MAIN_TOOLS = sorted(MAIN_POLICY.tools)
main_args = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["C1", "X"]) | json_scalars,
        "amount": st.floats(allow_nan=False) | st.integers(),
        "currency": st.sampled_from(["USD", "EUR"]),
        "to": st.lists(st.sampled_from(["a@example.test", "b@o.test"]), max_size=5),
        "subject": st.sampled_from(["hi", "URGENT"]),
        "text": st.text(max_size=12),
        "limit": st.integers(),
    },
)


@SETTINGS
@given(
    tool=st.sampled_from(MAIN_TOOLS),
    args=main_args,
    env=st.sampled_from(list(Environment)),
    usage=st.none() | st.just({}),
)
def test_evaluate_is_deterministic(
    tool: str, args: dict[str, object], env: Environment, usage: dict[str, int] | None
) -> None:
    req = request(tool, args, env=env, usage=usage)
    first = evaluate(MAIN_POLICY, req)
    assert evaluate(MAIN_POLICY, req) == first
    assert evaluate(MAIN_COPY, req) == first  # a fresh load of the same text decides the same
