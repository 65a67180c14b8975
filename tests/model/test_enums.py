"""The ordered enumerations: ``max`` of verdicts is the strictest, autonomy levels compare."""

from __future__ import annotations

import pytest

from proctor.model import HOLDING_FLAGS, Autonomy, Environment, Flag, Step, StepStatus, Verdict


@pytest.mark.parametrize(
    ("verdicts", "strictest"),
    [
        ([Verdict.ALLOW, Verdict.HOLD], Verdict.HOLD),
        ([Verdict.HOLD, Verdict.DENY, Verdict.ALLOW], Verdict.DENY),
        ([Verdict.ALLOW], Verdict.ALLOW),
    ],
    ids=["hold-over-allow", "deny-over-all", "allow-alone"],
)
def test_max_verdict_is_the_strictest(verdicts: list[Verdict], strictest: Verdict) -> None:
    assert max(verdicts) is strictest


def test_verdict_order() -> None:
    assert Verdict.ALLOW < Verdict.HOLD < Verdict.DENY
    assert sorted(Verdict, reverse=True) == [Verdict.DENY, Verdict.HOLD, Verdict.ALLOW]


def test_autonomy_order() -> None:
    assert Autonomy.READ < Autonomy.DRAFT < Autonomy.WRITE < Autonomy.EXECUTE


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Verdict.HOLD, "HOLD"),
        (Autonomy.EXECUTE, "execute"),
        (Environment.PRODUCTION, "production"),
        (Flag.MOVES_MONEY, "moves_money"),
        (Step.BOUNDARY, "boundary"),
        (StepStatus.ERROR, "error"),
    ],
    ids=["verdict", "autonomy", "environment", "flag", "step", "status"],
)
def test_str(value: object, text: str) -> None:
    assert str(value) == text


def test_holding_flags_exclude_external() -> None:
    assert frozenset({Flag.IRREVERSIBLE, Flag.CUSTOMER_VISIBLE, Flag.MOVES_MONEY}) == HOLDING_FLAGS
    assert Flag.EXTERNAL not in HOLDING_FLAGS


def test_pipeline_step_order() -> None:
    assert [s.value for s in Step] == [
        "resolve",
        "boundary",
        "limits",
        "flow",
        "rate",
        "verdict",
        "execute",
        "validate",
    ]
