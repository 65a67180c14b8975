"""Hooks fail closed: a hook that errors can refuse a call, never let one through."""

from __future__ import annotations

import logging

import pytest

from proctor import (
    GateHooks,
    OutcomeStatus,
    RuleHit,
    Step,
    StepResult,
    StepStatus,
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
  files.upload:
    autonomy: write
    args: {path: string}
"""


class Recorder(GateHooks):
    """Sees everything, changes nothing."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, object]] = []

    async def flow(self, session, call):
        self.events.append(("flow", call.id, call.tool))
        return None

    async def on_decision(self, session, call, decision):
        self.events.append(("decision", call.id, decision.verdict))

    async def on_hold(self, session, call, decision):
        self.events.append(("hold", call.id, decision.verdict))
        return None  # leaves queueing to the approvals hook

    async def on_outcome(self, session, call, outcome):
        self.events.append(("outcome", call.id, outcome.status))

    def of(self, kind):
        return [e for e in self.events if e[0] == kind]


class FlowRaises(GateHooks):
    async def flow(self, session, call):
        raise RuntimeError("provenance store unreachable")


class FlowSays(GateHooks):
    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict

    async def flow(self, session, call):
        hit = RuleHit("flow.untrusted-recipient", self.verdict, "recipient came from an email")
        return StepResult.ok(Step.FLOW, [hit])


class DecisionRaises(GateHooks):
    async def on_decision(self, session, call, decision):
        raise OSError("audit log is full")


class HoldRaises(GateHooks):
    async def on_hold(self, session, call, decision):
        raise ConnectionError("approval queue down")


class OutcomeRaises(GateHooks):
    async def on_outcome(self, session, call, outcome):
        raise ValueError("metrics backend rejected the sample")


class DroppingApprovals(InMemoryApprovals):
    """An approval queue that silently accepts nothing."""

    async def on_hold(self, session, call, decision):
        return None


@pytest.fixture
def ran():
    return []


@pytest.fixture
def build(make_gate, ran):
    def build(*hooks, **kwargs):
        gate = make_gate(POLICY, hooks=hooks, **kwargs)

        @gate.tool("inbox.read")
        def read(folder: str) -> list[str]:
            ran.append(("inbox.read", folder))
            return ["hello"]

        @gate.tool("email.send")
        def send(to: str, body: str) -> str:
            ran.append(("email.send", to))
            return "sent"

        session = gate.open_session("mail-bot", principal="alice", tenant="acme")
        return gate, session

    return build


READ = ("inbox.read", {"folder": "INBOX"})
SEND = ("email.send", {"to": "bob@acme.test", "body": "hi"})


# -- flow ----------------------------------------------------------------------------------------


def test_flow_hook_that_raises_denies_with_an_errored_flow_step(build, ran):
    gate, session = build(FlowRaises())
    out = gate.call(session, *READ)
    assert out.status is OutcomeStatus.DENIED
    flow = out.decision.step(Step.FLOW)
    assert flow is not None
    assert flow.status is StepStatus.ERROR
    assert flow.verdict is Verdict.DENY
    assert out.decision.rule_ids == ("flow.FlowRaises",)
    assert "RuntimeError: provenance store unreachable" in (out.error or "")
    assert ran == []


def test_flow_hook_that_raises_is_a_deny_in_decide_too(build):
    gate, session = build(FlowRaises())
    assert gate.decide(session, *READ).verdict is Verdict.DENY


@pytest.mark.parametrize(
    ("verdict", "status"),
    [
        pytest.param(Verdict.HOLD, OutcomeStatus.PENDING, id="hold"),
        pytest.param(Verdict.DENY, OutcomeStatus.DENIED, id="deny"),
    ],
)
def test_flow_verdict_tightens_an_allowed_call(build, ran, verdict, status):
    gate, session = build(FlowSays(verdict))
    out = gate.call(session, *READ)
    assert out.status is status
    assert out.decision.verdict is verdict
    assert out.decision.rule_ids == ("flow.untrusted-recipient",)
    assert ran == []


def test_flow_allow_cannot_loosen_a_hold(build, ran):
    gate, session = build(FlowSays(Verdict.ALLOW))
    out = gate.call(session, *SEND)
    assert out.status is OutcomeStatus.PENDING
    assert out.decision.rule_ids == ("flags.email.send",)
    assert ran == []


def test_flow_deny_beats_a_hold(build):
    gate, session = build(FlowSays(Verdict.DENY))
    out = gate.call(session, *SEND)
    assert out.status is OutcomeStatus.DENIED
    assert gate.approvals.pending() == []


def test_flow_hook_with_no_opinion_leaves_the_verdict(build, ran):
    gate, session = build(Recorder())
    out = gate.call(session, *READ)
    assert out.status is OutcomeStatus.EXECUTED
    assert out.decision.step(Step.FLOW) is None
    assert ran == [("inbox.read", "INBOX")]


# -- on_decision -----------------------------------------------------------------------------


@pytest.mark.parametrize("call", [READ, SEND], ids=["allowed", "held"])
def test_on_decision_that_raises_refuses_the_call(build, ran, call):
    gate, session = build(DecisionRaises())
    out = gate.call(session, *call)
    assert out.status is OutcomeStatus.DENIED
    assert out.decision.verdict is Verdict.DENY
    assert out.decision.rule_ids == ("record.error",)
    assert "OSError: audit log is full" in (out.error or "")
    assert ran == []
    assert gate.approvals.pending() == []


# -- on_hold ---------------------------------------------------------------------------------


def test_on_hold_that_raises_denies(build, ran):
    gate, session = build(HoldRaises())
    out = gate.call(session, *SEND)
    assert out.status is OutcomeStatus.DENIED
    assert out.approval_id is None
    assert out.decision.rule_ids == ("hold.error",)
    assert "ConnectionError: approval queue down" in (out.error or "")
    assert ran == []


def test_hold_nobody_queues_is_denied(build, ran):
    approvals = DroppingApprovals()
    gate, session = build(approvals=approvals)
    assert gate.approvals is approvals
    out = gate.call(session, *SEND)
    assert out.status is OutcomeStatus.DENIED
    assert out.approval_id is None
    assert out.decision.rule_ids == ("hold.unqueued",)
    assert ran == []
    assert approvals.pending() == []


def test_first_hook_that_queues_the_hold_wins(build):
    class Queue(GateHooks):
        async def on_hold(self, session, call, decision):
            return "ext-42"

    gate, session = build(Queue())
    out = gate.call(session, *SEND)
    assert out.status is OutcomeStatus.PENDING
    assert out.approval_id == "ext-42"
    assert gate.approvals.pending() == []


# -- on_outcome --------------------------------------------------------------------------------


def test_on_outcome_errors_do_not_change_the_outcome(build, ran, caplog):
    recorder = Recorder()
    gate, session = build(OutcomeRaises(), recorder)
    with caplog.at_level(logging.ERROR, logger="proctor.gate"):
        out = gate.call(session, *READ)
    assert out.status is OutcomeStatus.EXECUTED
    assert out.result == ["hello"]
    assert ran == [("inbox.read", "INBOX")]
    assert recorder.of("outcome") == [("outcome", out.call_id, OutcomeStatus.EXECUTED)]
    assert "on_outcome hook failed" in caplog.text


# -- every decision, every outcome --------------------------------------------------------------


def test_hooks_see_every_decision_and_outcome(build):
    recorder = Recorder()
    gate, session = build(recorder)
    calls = [
        ("inbox.read", {"folder": "INBOX"}, Verdict.ALLOW, OutcomeStatus.EXECUTED),
        ("email.send", {"to": "x@acme.test", "body": "hi"}, Verdict.HOLD, OutcomeStatus.PENDING),
        ("inbox.read", {"folder": 3}, Verdict.DENY, OutcomeStatus.DENIED),
        ("files.upload", {"path": "/tmp/x"}, Verdict.DENY, OutcomeStatus.DENIED),  # unregistered
        ("shell.exec", {}, Verdict.DENY, OutcomeStatus.DENIED),  # not in the policy
    ]
    outcomes = [gate.call(session, tool, args) for tool, args, _, _ in calls]

    assert [o.decision.verdict for o in outcomes] == [c[2] for c in calls]
    assert [o.status for o in outcomes] == [c[3] for c in calls]
    ids = [o.call_id for o in outcomes]
    assert [e[1] for e in recorder.of("flow")] == ids
    assert recorder.of("decision") == [
        ("decision", i, c[2]) for i, c in zip(ids, calls, strict=True)
    ]
    assert recorder.of("outcome") == [("outcome", i, c[3]) for i, c in zip(ids, calls, strict=True)]
    assert recorder.of("hold") == [("hold", ids[1], Verdict.HOLD)]
    per_call = [[e[0] for e in recorder.events if e[1] == i] for i in ids]
    assert per_call[0] == ["flow", "decision", "outcome"]
    assert per_call[1] == ["flow", "decision", "hold", "outcome"]


def test_hook_sees_the_decision_it_is_told_about_before_execution(build, ran):
    seen_before_run = []

    class Auditor(GateHooks):
        async def on_decision(self, session, call, decision):
            seen_before_run.append(list(ran))

    gate, session = build(Auditor())
    gate.call(session, *READ)
    assert seen_before_run == [[]]
    assert ran == [("inbox.read", "INBOX")]


# -- ingest --------------------------------------------------------------------------------------


class IngestRaises(GateHooks):
    async def on_ingest(self, session, content):
        raise ConnectionError("audit store down")


class IngestRecorder(GateHooks):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def on_ingest(self, session, content):
        self.seen.append((content.source, str(content.label.trust)))


def test_on_ingest_sees_explicit_and_automatic_ingests(build, ran):
    rec = IngestRecorder()
    gate, session = build(rec)
    gate.ingest(session, "summarise my inbox", "user")
    assert gate.call(session, *READ).status is OutcomeStatus.EXECUTED
    assert rec.seen == [("user", "trusted"), ("tool:inbox.read", "untrusted")]


def test_an_ingest_hook_that_raises_refuses_the_content(build):
    gate, session = build(IngestRaises())
    with pytest.raises(ConnectionError):
        gate.ingest(session, "an email body", "email")


def test_a_tool_output_that_cannot_be_recorded_is_withheld(build, ran):
    gate, session = build(IngestRaises())
    out = gate.call(session, *READ)
    assert ran == [("inbox.read", "INBOX")]  # it ran: the effect is reported, not hidden
    assert out.status is OutcomeStatus.FAILED
    assert out.result is None
    assert "result withheld" in (out.error or "")
