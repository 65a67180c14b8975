"""The hostility judgement and the multi-turn session score."""

from __future__ import annotations

import pytest

from proctor.detect import Escalation, Finding, SessionScore, Severity, judge
from proctor.model import StepStatus


def f(score: float, rule: str = "r", detector: str = "d") -> Finding:
    return Finding(detector, (0, 1), score, Severity.MEDIUM, "why", rule=rule)


@pytest.mark.parametrize(
    ("scores", "hostile", "near"),
    [
        ([], False, False),
        ([0.2], False, False),
        ([0.5], False, True),
        ([0.95], True, False),
        ([0.5, 0.5], True, False),
    ],
    ids=["nothing", "weak", "near-miss", "strong", "two-near-misses-add-up"],
)
def test_judgement(scores, hostile, near):
    j = judge([f(s, rule=str(i)) for i, s in enumerate(scores)])
    assert (j.hostile, j.near_miss) == (hostile, near)


def test_one_rule_matching_many_times_counts_once():
    j = judge([f(0.5), f(0.5), f(0.5)])
    assert j.score == pytest.approx(0.5)
    assert not j.hostile


def test_error_finding_is_hostile():
    err = Finding("d", (0, 0), 0.0, Severity.HIGH, "crash", status=StepStatus.ERROR)
    assert judge([err]).hostile


def test_reasons_are_sorted_by_score():
    j = judge([f(0.3, "a"), f(0.9, "b")])
    assert j.reasons[0] == "why"
    assert j.to_dict()["hostile"] is True


def near_miss():
    return judge([f(0.5)])


def test_repeated_near_misses_escalate_to_hold_then_contain():
    s = SessionScore()
    levels = []
    for _ in range(8):
        s = s.observe(near_miss())
        levels.append(s.escalation)
    assert levels[0] is Escalation.NONE
    assert Escalation.HOLD in levels
    assert levels[-1] is Escalation.CONTAIN
    assert s.near_misses == 8
    assert s.turns == 8
    assert s.hostile_turns == 0
    assert "contain" in s.explanation


def test_one_hostile_text_holds():
    s = SessionScore().observe(judge([f(0.99)]))
    assert s.escalation is Escalation.HOLD


def test_benign_turns_let_the_score_decay():
    s = SessionScore().observe(near_miss()).observe(near_miss())
    before = s.score
    for _ in range(5):
        s = s.observe(judge([]))
    assert s.score < before / 2
    assert s.escalation is Escalation.NONE


def test_session_score_is_a_value():
    s = SessionScore()
    s.observe(near_miss())
    assert s.score == 0.0
