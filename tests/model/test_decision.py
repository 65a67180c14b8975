"""Decisions are values: StepResult constructors, Decision.combine, ApprovalRequirement.merge."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from proctor.model import (
    ApprovalRequirement,
    Decision,
    RuleHit,
    Step,
    StepResult,
    StepStatus,
    Verdict,
)

ALLOW, HOLD, DENY = Verdict.ALLOW, Verdict.HOLD, Verdict.DENY
A = ApprovalRequirement


def hit(rule_id: str, verdict: Verdict, approval: A | None = None, **seen: object) -> RuleHit:
    return RuleHit(rule_id, verdict, f"because {rule_id}", seen, approval)


def step(s: Step, *hits: RuleHit) -> StepResult:
    return StepResult.ok(s, hits)


# ---- ApprovalRequirement.merge ---------------------------------------------------------------

MERGES = [
    ("nothing-to-merge", [], None),
    ("one", [A(2, ("finance",))], A(2, ("finance",))),
    ("max-approvers", [A(1, ("a",)), A(3, ("a",)), A(2, ("a",))], A(3, ("a",))),
    ("union-of-groups-in-order", [A(1, ("b", "a")), A(1, ("c", "a"))], A(1, ("b", "a", "c"))),
    ("no-groups", [A(2, ()), A(1, ())], A(2, ())),
    ("groups-deduplicated-within-one", [A(1, ("a", "a"))], A(1, ("a",))),
]


@pytest.mark.parametrize(("reqs", "merged"), [c[1:] for c in MERGES], ids=[c[0] for c in MERGES])
def test_merge(reqs: list[A], merged: A | None) -> None:
    assert A.merge(reqs) == merged


def test_merge_accepts_a_generator() -> None:
    assert A.merge(r for r in [A(1, ("x",)), A(2, ("y",))]) == A(2, ("x", "y"))


# ---- StepResult ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hits", "verdict"),
    [
        ((), ALLOW),
        ((hit("a", ALLOW),), ALLOW),
        ((hit("a", ALLOW), hit("h", HOLD)), HOLD),
        ((hit("d", DENY), hit("h", HOLD), hit("a", ALLOW)), DENY),
    ],
    ids=["no-hits-allow", "allow", "hold-beats-allow", "deny-beats-all"],
)
def test_step_ok_takes_the_strictest_hit(hits: tuple[RuleHit, ...], verdict: Verdict) -> None:
    result = StepResult.ok(Step.LIMITS, hits)
    assert (result.verdict, result.status, result.hits) == (verdict, StepStatus.OK, hits)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (KeyError("amount"), "check failed, denying (fail closed): KeyError: 'amount'"),
        ("no usage", "check failed, denying (fail closed): no usage"),
    ],
    ids=["exception", "message"],
)
def test_step_error_denies_and_names_the_error(exc: BaseException | str, reason: str) -> None:
    result = StepResult.error(Step.RATE, "rate.x", exc)
    assert (result.step, result.verdict, result.status) == (Step.RATE, DENY, StepStatus.ERROR)
    assert result.hits == (RuleHit("rate.x", DENY, reason),)


def test_step_skipped_allows_with_a_note() -> None:
    result = StepResult.skipped(Step.RATE, "not evaluated")
    assert (result.verdict, result.status, result.hits, result.note) == (
        ALLOW,
        StepStatus.SKIPPED,
        (),
        "not evaluated",
    )


# ---- Decision.combine ------------------------------------------------------------------------


def test_combine_of_no_steps_denies() -> None:
    decision = Decision.combine("refund", [], "pol@abc")
    assert decision.verdict is DENY
    assert decision.rule_ids == ("default-deny",)
    assert decision.reasons == ("no step ran",)
    (only,) = decision.steps
    assert (only.step, only.status) == (Step.VERDICT, StepStatus.ERROR)
    assert (decision.tool, decision.policy, decision.approval) == ("refund", "pol@abc", None)
    assert not decision.allowed


# (id, steps, verdict, approval, deciding rule ids)
COMBINES = [
    ("all-allow", [step(Step.RESOLVE), step(Step.BOUNDARY, hit("a", ALLOW))], ALLOW, None, ("a",)),
    (
        "hold-beats-allow",
        [step(Step.BOUNDARY, hit("a", ALLOW)), step(Step.LIMITS, hit("h", HOLD, A(2, ("g",))))],
        HOLD,
        A(2, ("g",)),
        ("h",),
    ),
    (
        "deny-beats-hold",
        [step(Step.LIMITS, hit("h", HOLD, A(2, ("g",)))), step(Step.RATE, hit("d", DENY))],
        DENY,
        None,
        ("d",),
    ),
    (
        "holds-merge-across-steps",
        [
            step(Step.BOUNDARY, hit("f", HOLD, A(1, ("leads",)))),
            step(Step.LIMITS, hit("h", HOLD, A(2, ("finance",))), hit("a", ALLOW, A(5, ("x",)))),
        ],
        HOLD,
        A(2, ("leads", "finance")),
        ("f", "h"),
    ),
    ("hold-without-approval-needs-one", [step(Step.FLOW, hit("h", HOLD))], HOLD, A(1, ()), ("h",)),
    (
        "errored-step-denies",
        [step(Step.BOUNDARY, hit("a", ALLOW)), StepResult.error(Step.LIMITS, "x", "boom")],
        DENY,
        None,
        ("x",),
    ),
    (
        "skipped-step-does-not-loosen",
        [step(Step.LIMITS, hit("h", HOLD)), StepResult.skipped(Step.RATE, "n/a")],
        HOLD,
        A(1, ()),
        ("h",),
    ),
    (
        "bare-deny-step-without-hits",
        [step(Step.BOUNDARY, hit("a", ALLOW)), StepResult(Step.FLOW, DENY)],
        DENY,
        None,
        (),
    ),
]


@pytest.mark.parametrize(
    ("steps", "verdict", "approval", "rule_ids"),
    [c[1:] for c in COMBINES],
    ids=[c[0] for c in COMBINES],
)
def test_combine(
    steps: list[StepResult], verdict: Verdict, approval: A | None, rule_ids: tuple[str, ...]
) -> None:
    decision = Decision.combine("t", steps)
    assert decision.verdict is verdict
    assert decision.approval == approval
    assert decision.rule_ids == rule_ids
    assert decision.steps == tuple(steps)
    assert decision.allowed is (verdict is ALLOW)


def test_hits_reasons_and_seen_come_from_the_deciding_rules_only() -> None:
    decision = Decision.combine(
        "refund",
        [
            step(Step.BOUNDARY, hit("allow.refund", ALLOW)),
            step(
                Step.LIMITS,
                hit("over-100", HOLD, amount=500.0),
                hit("over-1000", HOLD, amount=500.0, currency="USD"),
                hit("plain", HOLD),
            ),
        ],
    )
    assert decision.rule_ids == ("over-100", "over-1000", "plain")
    assert decision.reasons == ("because over-100", "because over-1000", "because plain")
    assert decision.seen == {
        "over-100": {"amount": 500.0},
        "over-1000": {"amount": 500.0, "currency": "USD"},
    }


def test_hits_are_read_once_and_a_changed_decision_reads_its_own() -> None:
    decision = Decision.combine("t", [step(Step.LIMITS, hit("a", DENY), hit("b", HOLD))])
    assert decision.hits is decision.hits  # derived once: a decision is frozen
    assert decision.rule_ids == ("a",)
    held = dataclasses.replace(decision, verdict=HOLD)
    assert held.rule_ids == ("b",)  # not the hits cached on the decision it came from
    again = pickle.loads(pickle.dumps(decision))
    assert again == decision
    assert again.rule_ids == ("a",)
    # the cache is no field: equality, repr and asdict see the decision's fields only
    assert decision == Decision.combine("t", [step(Step.LIMITS, hit("a", DENY), hit("b", HOLD))])
    assert set(dataclasses.asdict(decision)) == {"tool", "verdict", "steps", "approval", "policy"}
    assert "_hits" not in repr(decision)


def test_step_lookup() -> None:
    rate = StepResult.skipped(Step.RATE, "n/a")
    decision = Decision.combine("t", [step(Step.RESOLVE), rate])
    assert decision.step(Step.RATE) is rate
    assert decision.step(Step.FLOW) is None
