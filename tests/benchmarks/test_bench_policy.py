"""The benchmark policy: sized like a real deployment, and Proctor and Cedar read it alike."""

from __future__ import annotations

from collections import Counter

import pytest

from _questions import KIND_WEIGHTS, POLICY_CEDAR, POLICY_YAML, SEED, Question, generate
from proctor.model import StepStatus, Verdict
from proctor.policy import CompiledPolicy, evaluate, load_policy

SAMPLE = 2_000


@pytest.fixture(scope="module")
def policy() -> CompiledPolicy:
    return load_policy(POLICY_YAML)


@pytest.fixture(scope="module")
def questions(policy: CompiledPolicy) -> list[Question]:
    return generate(policy, SAMPLE, SEED)


def test_policy_is_sized_like_a_real_deployment(policy: CompiledPolicy) -> None:
    assert len(policy.tools) >= 30
    assert sum(len(plan.constraints) for plan in policy.tools.values()) >= 60


def test_questions_are_the_same_for_the_same_seed(
    policy: CompiledPolicy, questions: list[Question]
) -> None:
    assert generate(policy, 100, SEED) == questions[:100]


def test_questions_ask_every_kind_and_get_every_verdict(
    policy: CompiledPolicy, questions: list[Question]
) -> None:
    verdicts = Counter(evaluate(policy, q.request).verdict for q in questions)
    assert {q.kind for q in questions} == set(KIND_WEIGHTS)
    assert set(verdicts) == set(Verdict)


def test_no_constraint_fails_on_the_questions(
    policy: CompiledPolicy, questions: list[Question]
) -> None:
    # Proctor denies when a constraint fails, Cedar skips a failing policy: a failing constraint
    # would be a bug in the bench policy, not a difference between the engines.
    failed = [
        (q.request.tool, hit.rule_id)
        for q in questions
        if q.kind != "usage-missing"  # a missing rate counter fails the rate step on purpose
        for step in evaluate(policy, q.request).steps
        if step.status is StepStatus.ERROR
        for hit in step.hits
    ]
    assert failed == []


def test_proctor_and_cedar_agree_on_every_verdict(
    policy: CompiledPolicy, questions: list[Question]
) -> None:
    pytest.importorskip("cedarpy", reason="cedarpy is not installed: pip install -e '.[bench]'")
    from _cedar import CedarEngine, cedar_request

    cedar = CedarEngine.load(policy, POLICY_CEDAR)  # also validates bench.cedar against the schema
    disagreements = []
    for q in questions:
        request = cedar_request(policy, q.request)
        ours = evaluate(policy, q.request)
        theirs = cedar.decide(request), cedar.decide(request, cedar.slice_for(q.request.tool))
        if theirs != (ours.verdict, ours.verdict):
            disagreements.append(
                f"[{q.kind}] {q.request.tool} {q.request.environment} {dict(q.request.args)}: "
                f"proctor {ours.verdict.name} {list(ours.rule_ids)}, "
                f"cedar {cedar.explain(request)}"
            )
    assert disagreements[:5] == [], f"{len(disagreements)} of {len(questions)} disagree"
