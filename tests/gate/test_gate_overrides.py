"""The gate's human-control points: ``admit`` (the kill switch) only tightens and fails
closed; ``waive`` (break-glass) lifts holds, never a DENY, and an error waives nothing;
``aexecute_approved`` lifts only the holds the approvers saw."""

from __future__ import annotations

import asyncio

import pytest

from proctor import (
    Decision,
    GateHooks,
    OutcomeStatus,
    RuleHit,
    Step,
    StepResult,
    StepStatus,
    ToolCall,
    Verdict,
)
from proctor.approvals import InMemoryApprovals

POLICY = """
version: 1
agent: {name: mail-bot, role: svc-mail, owner: mail@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  inbox.read:
    autonomy: read
    args: {folder: string}
  email.send:
    autonomy: write
    flags: [customer_visible]
    args: {to: string, body: string}
    constraints:
      - {id: email.outside, when: "!args.to.endsWith('@acme.test')", verdict: deny,
         reason: Mail leaves the company only with a person.}
"""

READ = ("inbox.read", {"folder": "INBOX"})
SEND = ("email.send", {"to": "bob@acme.test", "body": "hi"})
OUTSIDE = ("email.send", {"to": "x@elsewhere.test", "body": "hi"})


class Admit(GateHooks):
    def __init__(self, verdict=None, error=None):
        self.verdict, self.error = verdict, error

    async def admit(self, session, call):
        if self.error:
            raise self.error
        if self.verdict is None:
            return None
        return StepResult.ok(Step.BOUNDARY, [RuleHit("test.switch", self.verdict, "switched")])


class Waive(GateHooks):
    def __init__(self, hit=None, error=None):
        self.hit, self.error = hit, error
        self.seen: list[Verdict] = []
        self.attached = []

    def attach(self, gate):
        self.attached.append(gate)

    async def waive(self, session, call, decision):
        self.seen.append(decision.verdict)
        if self.error:
            raise self.error
        return self.hit


GLASS = RuleHit("breakglass.bg_1", Verdict.ALLOW, "override by root")


@pytest.fixture
def build(make_gate):
    ran = []

    def build(*hooks):
        gate = make_gate(POLICY, hooks=hooks)

        @gate.tool("inbox.read")
        def read(folder: str) -> list[str]:
            ran.append("read")
            return []

        @gate.tool("email.send")
        def send(to: str, body: str) -> str:
            ran.append("send")
            return "sent"

        return gate, gate.open_session("mail-bot", principal="alice", tenant="acme"), ran

    return build


@pytest.mark.parametrize(
    ("verdict", "status"),
    [(Verdict.HOLD, OutcomeStatus.PENDING), (Verdict.DENY, OutcomeStatus.DENIED)],
)
def test_admit_tightens_a_call_that_would_be_allowed(build, verdict, status):
    gate, s, ran = build(Admit(verdict))
    out = gate.call(s, *READ)
    assert out.status is status
    assert out.decision.rule_ids == ("test.switch",)
    assert ran == []


def test_admit_that_raises_denies(build):
    gate, s, ran = build(Admit(error=ConnectionError("store down")))
    out = gate.call(s, *READ)
    assert out.status is OutcomeStatus.DENIED
    step = out.decision.step(Step.BOUNDARY)
    assert any(h.rule_id == "admit.Admit" for h in out.decision.hits)
    assert "ConnectionError: store down" in (out.error or "")
    assert step is not None
    assert ran == []


def test_admit_allow_cannot_loosen(build):
    gate, s, _ = build(Admit(Verdict.ALLOW))
    assert gate.call(s, *OUTSIDE).status is OutcomeStatus.DENIED


def test_waive_lifts_a_hold_and_says_who(build):
    hook = Waive(GLASS)
    gate, s, ran = build(hook)
    assert hook.attached == [gate]
    out = gate.call(s, *SEND)
    assert out.status is OutcomeStatus.EXECUTED
    assert ran == ["send"]
    assert "breakglass.bg_1" in out.decision.rule_ids
    flags = next(h for h in out.decision.hits if h.rule_id == "flags.email.send")
    assert flags.verdict is Verdict.ALLOW
    assert "[lifted by breakglass.bg_1]" in flags.reason


def test_waive_is_never_asked_about_a_deny_or_an_allow(build):
    hook = Waive(GLASS)
    gate, s, _ran = build(hook)
    assert gate.call(s, *OUTSIDE).status is OutcomeStatus.DENIED
    assert gate.call(s, *READ).status is OutcomeStatus.EXECUTED
    assert hook.seen == []


@pytest.mark.parametrize(
    "hook",
    [
        Waive(error=RuntimeError("grant store down")),
        Waive(RuleHit("bad", Verdict.HOLD, "not a waiver")),
        Waive(RuleHit("bad", Verdict.DENY, "not a waiver")),
    ],
    ids=["raises", "hold-hit", "deny-hit"],
)
def test_a_broken_waiver_waives_nothing(build, hook):
    gate, s, ran = build(hook, InMemoryApprovals())
    out = gate.call(s, *SEND)
    assert out.status is OutcomeStatus.PENDING
    assert ran == []


def test_decision_waived_lifts_every_hold_and_keeps_denies():
    hold = RuleHit("a", Verdict.HOLD, "needs a lead")
    deny = RuleHit("b", Verdict.DENY, "never")
    held = Decision.combine("t", [StepResult.ok(Step.LIMITS, [hold])])
    lifted = held.waived(GLASS)
    assert lifted.verdict is Verdict.ALLOW
    assert lifted.step(Step.VERDICT).hits == (GLASS,)
    denied = Decision.combine("t", [StepResult.ok(Step.LIMITS, [hold, deny])])
    assert denied.waived(GLASS).verdict is Verdict.DENY
    errored = Decision.combine("t", [StepResult.error(Step.FLOW, "f", "boom")])
    assert errored.waived(GLASS).verdict is Verdict.DENY
    assert errored.waived(GLASS).step(Step.FLOW).status is StepStatus.ERROR
    with pytest.raises(ValueError, match="must be an ALLOW hit"):
        held.waived(RuleHit("x", Verdict.HOLD, "no"))


APPROVED = RuleHit("approval.apr_1", Verdict.ALLOW, "approved by alice")


def test_execute_approved_runs_a_call_whose_holds_were_approved(build):
    gate, s, ran = build()
    call = ToolCall(SEND[0], SEND[1], s.id)
    out = gate.execute_approved(s, call, APPROVED, ["flags.email.send"])
    assert out.status is OutcomeStatus.EXECUTED
    assert ran == ["send"]
    assert "approval.apr_1" in out.decision.rule_ids


def test_execute_approved_refuses_holds_the_approvers_did_not_see(build):
    gate, s, ran = build(Admit(Verdict.HOLD), queue := InMemoryApprovals())
    call = ToolCall(SEND[0], SEND[1], s.id)
    out = gate.execute_approved(s, call, APPROVED, ["flags.email.send"])
    assert out.status is OutcomeStatus.DENIED
    assert ran == []
    assert "approval.uncovered" in out.decision.rule_ids
    assert "test.switch" in (out.error or "")
    assert queue.pending() == []  # refused, not queued a second time


def test_execute_approved_never_runs_a_call_the_policy_now_denies(build):
    gate, s, ran = build()
    call = ToolCall(OUTSIDE[0], OUTSIDE[1], s.id)
    out = gate.execute_approved(s, call, APPROVED, ["flags.email.send", "email.outside"])
    assert out.status is OutcomeStatus.DENIED
    assert ran == []


def test_execute_approved_is_async_underneath(build):
    gate, s, _ran = build()
    call = ToolCall(SEND[0], SEND[1], s.id)
    out = asyncio.run(gate.aexecute_approved(s, call, APPROVED, ["flags.email.send"]))
    assert out.status is OutcomeStatus.EXECUTED
