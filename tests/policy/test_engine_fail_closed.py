"""Fail closed: a check that errors denies, names the error, and ``evaluate`` never raises."""

from __future__ import annotations

import pytest

from proctor.model import Step, StepStatus, Verdict
from proctor.policy import _engine, evaluate

from ._texts import doc, load, request

# One tool per failure mode; the constraint id names it.
POLICY = load(
    doc(
        """\
        tools:
          t:
            autonomy: write
            flags: [irreversible]
            args:
              amount: {type: number, required: false}
              n: {type: integer, required: false}
              note: {type: string, required: false}
              meta: {type: object, required: false}
            constraints:
              - id: t.size-of-null
                when: size(args.note) > 3
                verdict: hold
              - id: t.field-of-null
                when: args.meta.owner == "eve"
                verdict: deny
              - id: t.missing-key
                when: has(args.meta) && args.meta.owner == "eve"
                verdict: deny
              - id: t.wrong-type
                when: has(args.meta) && args.meta.count > 1
                verdict: hold
              - id: t.overflow
                when: has(args.n) && args.n + 1 > 0
                verdict: allow
              - id: t.returns-number
                when: "has(args.amount) && args.amount > 0.0 ? args.amount : false"
                verdict: deny
              - id: t.returns-string
                when: "has(args.amount) && args.amount < 0.0 ? 'negative' : false"
                verdict: allow
        """
    )
)
SIZE_OF_NULL = "t.size-of-null"

# (id, args, the constraint that errors, fragment of its reason)
CEL_ERRORS = [
    (
        "size-of-optional-arg-not-provided",
        {"meta": {"owner": "x", "count": 0}},
        SIZE_OF_NULL,
        "failed, denying (fail closed): ",
    ),
    ("field-access-on-null", {"note": "ok"}, "t.field-of-null", "failed, denying (fail closed): "),
    (
        "missing-key-in-object",
        {"note": "ok", "meta": {"count": 0}},
        "t.field-of-null",
        "failed, denying (fail closed): KeyError",
    ),
    (
        "comparison-of-wrong-types",
        {"note": "ok", "meta": {"owner": "x", "count": "many"}},
        "t.wrong-type",
        "failed, denying (fail closed): TypeError",
    ),
    (
        "integer-overflow",
        {"note": "ok", "meta": {"owner": "x", "count": 0}, "n": 2**63 - 1},
        "t.overflow",
        "failed, denying (fail closed): OverflowError",
    ),
    (
        "non-bool-number",
        {"note": "ok", "meta": {"owner": "x", "count": 0}, "amount": 5.0},
        "t.returns-number",
        "returned float, expected bool; denying (fail closed)",
    ),
]


@pytest.mark.parametrize(
    ("args", "rule_id", "fragment"), [c[1:] for c in CEL_ERRORS], ids=[c[0] for c in CEL_ERRORS]
)
def test_cel_runtime_error_denies_with_status_error(
    args: dict, rule_id: str, fragment: str
) -> None:
    decision = evaluate(POLICY, request("t", args))
    assert decision.verdict is Verdict.DENY
    limits = decision.step(Step.LIMITS)
    assert limits is not None
    assert (limits.verdict, limits.status) == (Verdict.DENY, StepStatus.ERROR)
    assert rule_id in decision.rule_ids
    reason = dict(zip(decision.rule_ids, decision.reasons, strict=True))[rule_id]
    assert reason.startswith(f"constraint {rule_id} ")
    assert fragment in reason


def test_constraints_that_do_not_error_still_decide_alongside() -> None:
    args = {"note": "ok", "meta": {"owner": "x", "count": 0}}
    decision = evaluate(POLICY, request("t", args))
    # every guard is satisfied and nothing errors: the flag hold decides
    assert decision.verdict is Verdict.HOLD
    assert decision.rule_ids == ("flags.t",)


def test_non_bool_from_an_allow_rule_denies_and_waives_nothing() -> None:
    args = {"note": "ok", "meta": {"owner": "x", "count": 0}, "amount": -1.0}
    decision = evaluate(POLICY, request("t", args))
    assert decision.verdict is Verdict.DENY
    assert decision.rule_ids == ("t.returns-string",)
    assert decision.reasons == (
        "constraint t.returns-string returned str, expected bool; denying (fail closed)",
    )
    boundary = decision.step(Step.BOUNDARY)
    assert boundary is not None
    assert boundary.verdict is Verdict.HOLD


def test_errored_hold_rule_denies_rather_than_holds() -> None:
    decision = evaluate(POLICY, request("t", {"meta": {"owner": "x", "count": 0}}))
    assert decision.verdict is Verdict.DENY
    assert decision.rule_ids == (SIZE_OF_NULL,)
    assert decision.seen == {SIZE_OF_NULL: {"note": None}}


def test_value_cel_cannot_convert_denies_at_limits() -> None:
    decision = evaluate(POLICY, request("t", {"meta": {"owner": {1, 2}}}))
    assert decision.verdict is Verdict.DENY
    assert decision.rule_ids == ("limits.error",)
    limits = decision.step(Step.LIMITS)
    assert limits is not None
    assert limits.status is StepStatus.ERROR


# A crash inside a step function: the step denies with status error and names the exception.
STEPS = [
    ("_resolve", Step.RESOLVE, "resolve.error"),
    ("_boundary", Step.BOUNDARY, "boundary.error"),
    ("_limits", Step.LIMITS, "limits.error"),
    ("_rate", Step.RATE, "rate.error"),
]


@pytest.mark.parametrize(("func", "step", "rule_id"), [c for c in STEPS], ids=[c[0] for c in STEPS])
def test_exception_inside_a_step_denies(
    monkeypatch: pytest.MonkeyPatch, func: str, step: Step, rule_id: str
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(_engine, func, boom)
    policy = load(doc("tools:\n  ping: {autonomy: read}\n"))
    decision = evaluate(policy, request("ping", usage={}))
    assert decision.verdict is Verdict.DENY
    result = decision.step(step)
    assert result is not None
    assert (result.verdict, result.status) == (Verdict.DENY, StepStatus.ERROR)
    assert decision.rule_ids == (rule_id,)
    assert decision.reasons == ("check failed, denying (fail closed): RuntimeError: boom",)


def test_crash_in_limits_does_not_stop_the_boundary_from_running(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise ValueError("bad")

    monkeypatch.setattr(_engine, "_limits", boom)
    decision = evaluate(POLICY, request("t", {}))
    boundary = decision.step(Step.BOUNDARY)
    assert boundary is not None
    assert boundary.verdict is Verdict.HOLD  # the flag hold, never waived by a crashed step
    assert decision.verdict is Verdict.DENY
