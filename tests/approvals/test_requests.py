"""A HOLD becomes a durable request carrying everything a reviewer needs, and every move of its
state machine is transactional and leaves an audit record."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState
from proctor.audit import EventKind, Signer, verify
from proctor.errors import ApprovalNotFoundError, ApprovalStateError

from ._world import SEED

REFUND = {"order_id": "O-77", "amount": 250.0}


def held(world, args=REFUND, **kw):
    s = kw.pop("session", None) or world.session()
    out = world.gate.call(s, "payments.refund", args, **kw)
    assert out.status is OutcomeStatus.PENDING, out
    return s, out, world.queue.get(out.approval_id)


def approval_records(world, approval_id):
    return [
        r.body
        for r in world.log.records()
        if r.kind == EventKind.APPROVAL and r.body["approval_id"] == approval_id
    ]


def test_a_request_carries_what_a_reviewer_needs(world):
    s = world.session(principal="ticket:T-9")
    world.gate.ingest(
        s, "Customer writes: please refund 250 on my order, it arrived broken", "email"
    )
    world.gate.call(s, "orders.get", {"order_id": "O-77"})
    _, out, req = held(world, session=s, reason="customer reported damage", confidence=0.9)

    # the exact call, and who asked
    assert (req.tool, dict(req.args), req.call_id) == ("payments.refund", REFUND, out.call_id)
    assert (req.agent, req.principal, req.tenant, req.session_id) == (
        "refunds-bot",
        "ticket:T-9",
        "acme",
        s.id,
    )
    # the rules that held it and why, with the values they saw
    assert req.held_by[0] == "refund.over-100"
    assert "flow.untrusted.payments.refund.amount" in req.held_by
    rule = req.context["held_by"][0]
    assert rule == {
        "rule_id": "refund.over-100",
        "reason": "Refunds above 100 need a finance approver.",
        "seen": {"amount": 250.0},
    }
    # what the agent saw: where each argument came from, and that content with its labels
    prov = req.context["provenance"]
    assert (prov["order_id"]["provenance"], prov["order_id"]["basis"]) == ("trusted", "record")
    assert (prov["amount"]["provenance"], prov["amount"]["basis"]) == ("untrusted", "third_party")
    saw = {c["source"]: c for c in req.context["saw"]}
    assert set(saw) == {"email", "tool:orders.get"}
    assert (saw["email"]["trust"], saw["email"]["confidentiality"], saw["email"]["tenant"]) == (
        "untrusted",
        "internal",
        "acme",
    )
    assert "refund 250" in saw["email"]["excerpt"]
    assert saw["tool:orders.get"]["trust"] == "trusted"
    assert saw["tool:orders.get"]["fields"] == ["order_id"]
    # the session's recent actions
    assert [(a["tool"], a["status"]) for a in req.context["recent"]] == [("orders.get", "executed")]
    # risk flags from the policy
    risk = req.context["risk"]
    assert (risk["moves_money"], risk["irreversible"], risk["customer_visible"]) == (
        True,
        True,
        False,
    )
    assert risk["argument_roles"]["amount"] == "amount"
    # the agent's own words
    assert req.context["agent"] == {"reason": "customer reported damage", "confidence": 0.9}
    assert (req.agent_reason, req.confidence) == ("customer reported damage", 0.9)
    # who may approve, who never may, and until when
    assert (req.approvers, req.groups) == (1, ("finance",))
    assert set(req.excluded) == {"ticket:T-9", "refunds-bot", "svc-refunds"}
    assert req.expires_at == pytest.approx(world.clock.now + 3600)


def test_the_request_survives_the_process(world, make):
    _, _, req = held(world)
    other = make(people=False)  # another process: a new engine on the same database
    again = other.queue.get(req.id)
    assert again == req


def test_the_full_path_is_audited_in_order_and_the_chain_verifies(world):
    s, out, req = held(world)
    world.queue.approve(req.id, by=world.people["alice"], note="checked")
    res = world.queue.ticket(out, s).outcome(timeout=10)
    assert res.state is ApprovalState.EXECUTED
    trail = [(b["action"], b["from"], b["to"], b["by"]) for b in approval_records(world, req.id)]
    executor = world.queue.worker().executor
    assert trail == [
        ("requested", None, "pending", "refunds-bot"),
        ("voted", "pending", "pending", "alice"),
        ("approved", "pending", "approved", "alice"),
        ("executing", "approved", "executing", executor),
        ("executed", "executing", "executed", executor),
    ]
    requested = approval_records(world, req.id)[0]
    assert requested["args"]["amount"]["type"] == "number"  # masked, never the value
    # no field holds the amount (ids are random hex and may contain the digits "250")
    assert not any(str(v).startswith("250") for v in _leaves(requested))
    assert verify(world.log.engine, [Signer.from_seed(SEED).public_key]).ok
    # the re-decision that executed it names the approval
    decisions = [r.body for r in world.log.records() if r.kind == EventKind.DECISION]
    assert f"approval.{req.id}" in decisions[-1]["rule_ids"]
    assert decisions[-1]["verdict"] == "ALLOW"


TRANSITIONS = [
    # (setup actions, action, allowed?)
    ((), "approve", True),
    ((), "deny", True),
    ((), "cancel", True),
    ((), "expire", True),
    (("approve",), "approve", False),
    (("approve",), "deny", False),
    (("approve",), "cancel", False),
    (("deny",), "approve", False),
    (("deny",), "claim", False),
    (("cancel",), "approve", False),
    (("expire",), "approve", False),
    (("expire",), "claim", False),
    (("approve",), "claim", True),
    (("approve", "claim"), "claim", False),
    (("approve", "claim", "finish"), "claim", False),
]


def act(world, req_id, action):
    q, people = world.queue, world.people
    voters = iter(["alice", "bob"])
    if action == "approve":
        return q.approve(req_id, by=people[next(voters)])
    if action == "deny":
        return q.deny(req_id, by=people["bob"], note="no")
    if action == "cancel":
        return q.cancel(req_id, by=people["root"], note="withdrawn")
    if action == "expire":
        world.clock.advance(3601)
        return q.requests.expire_due()
    if action == "claim":
        claim = q.requests.claim(req_id, "test-executor", 60)
        if claim is None:
            raise ApprovalStateError("not claimable")
        world.claim = claim
        return claim
    if action == "finish":
        from proctor import Decision, Outcome

        return q.requests.finish(
            world.claim, Outcome(OutcomeStatus.EXECUTED, Decision.combine("t", []), "c", "ok")
        )
    raise AssertionError(action)


@pytest.mark.parametrize(("setup", "action", "allowed"), TRANSITIONS)
def test_state_machine(world, setup, action, allowed):
    _, _, req = held(world)
    for step in setup:
        act(world, req.id, step)
    before = world.queue.get(req.id)
    if allowed:
        act(world, req.id, action)
        assert world.queue.get(req.id).version > before.version
    else:
        with pytest.raises(ApprovalStateError):
            act(world, req.id, action)
        assert world.queue.get(req.id) == before  # nothing written


def test_unknown_request(world):
    with pytest.raises(ApprovalNotFoundError, match="apr_nope"):
        world.queue.approve("apr_nope", by=world.people["alice"])


def test_a_transition_is_recorded_even_if_the_audit_log_is_down_at_commit(world, monkeypatch):
    """The outbox: the transition and its record commit together; relaying happens later, and
    a relay that fails never turns a committed change into an error."""
    _, _, req = held(world)

    def down(*a, **k):
        raise RuntimeError("audit store unreachable")

    monkeypatch.setattr(world.queue.recorder, "relay", down)
    after = world.queue.deny(req.id, by=world.people["alice"], note="no")
    assert after.state is ApprovalState.DENIED
    assert world.queue.get(req.id).state is ApprovalState.DENIED  # committed
    assert [b["action"] for b in approval_records(world, req.id)] == ["requested"]
    monkeypatch.undo()
    world.queue.recorder.relay()
    assert [b["action"] for b in approval_records(world, req.id)] == [
        "requested",
        "voted",
        "denied",
    ]
    world.queue.recorder.relay()  # relaying again appends nothing twice
    assert len(approval_records(world, req.id)) == 3
    assert world.queue.recorder.pending()[0] == 0


def test_a_held_call_is_pending_even_if_its_record_cannot_be_relayed_yet(world, monkeypatch):
    """Never 'denied' to the agent while its request waits in the queue."""

    def down(*a, **k):
        raise RuntimeError("audit store unreachable")

    monkeypatch.setattr(world.queue.recorder, "relay", down)
    out = world.gate.call(world.session(), "payments.refund", REFUND)
    assert out.status is OutcomeStatus.PENDING
    assert world.queue.get(out.approval_id).state is ApprovalState.PENDING
    monkeypatch.undo()
    assert world.queue.recorder.relay() >= 1
    assert [b["action"] for b in approval_records(world, out.approval_id)] == ["requested"]


def test_a_store_that_refuses_the_request_denies_the_call(world):
    with world.queue.engine.begin() as conn:
        conn.execute(text("DROP TABLE proctor_approval_requests"))
    out = world.gate.call(world.session(), "payments.refund", REFUND)
    assert out.status is OutcomeStatus.DENIED
    assert "hold.error" in out.decision.rule_ids
    assert world.refunds == []


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value
