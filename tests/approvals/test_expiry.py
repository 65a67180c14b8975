"""A request nobody decides in time expires (final: it never executes) or, if the policy says
so, escalates once to the workflow owner."""

from __future__ import annotations

import pytest

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState
from proctor.errors import ApprovalStateError


def held(world, tool, args):
    out = world.gate.call(world.session(), tool, args)
    assert out.status is OutcomeStatus.PENDING
    return out, world.queue.get(out.approval_id)


REFUND = ("payments.refund", {"order_id": "O-1", "amount": 250.0})
PAYOUT = ("payouts.send", {"account": "ACC-1", "amount": 10.0})


def test_an_expired_request_is_final_and_never_executes(world):
    out, req = held(world, *REFUND)
    world.clock.advance(3599)
    assert world.queue.requests.expire_due() == []
    world.clock.advance(1)
    (expired,) = world.queue.requests.expire_due()
    assert (expired.id, expired.state, expired.decided_by) == (
        req.id,
        ApprovalState.EXPIRED,
        "proctor",
    )
    with pytest.raises(ApprovalStateError):
        world.queue.approve(req.id, by=world.people["alice"])
    assert world.queue.requests.claim(req.id, "x", 60) is None
    assert world.queue.worker().execute(req.id) is None
    assert world.queue.worker().run_once().executed == []
    assert world.queue.ticket(out, req.session()).outcome(timeout=0).state is ApprovalState.EXPIRED
    assert world.refunds == []


def test_a_vote_after_the_deadline_expires_the_request_instead(world):
    _, req = held(world, *REFUND)
    world.clock.advance(4000)  # nobody swept yet
    with pytest.raises(ApprovalStateError, match="can never be approved"):
        world.queue.approve(req.id, by=world.people["alice"])
    after = world.queue.get(req.id)
    assert after.state is ApprovalState.EXPIRED
    assert after.votes == ()


def test_escalation_goes_once_to_the_workflow_owner(world):
    _, req = held(world, *PAYOUT)  # on_expiry: escalate, expires_after: 30 minutes
    world.queue.approve(req.id, by=world.people["alice"])
    world.clock.advance(1800)
    (escalated,) = world.queue.requests.expire_due()
    assert escalated.state is ApprovalState.PENDING
    assert escalated.escalated
    assert escalated.required_groups == ("finance-owner",)
    assert escalated.expires_at == pytest.approx(world.clock.now + 1800)
    # alice's earlier vote still counts as a person; the owner's group must now be represented
    with pytest.raises(Exception, match="needs a member of finance-owner"):
        world.queue.approve(req.id, by=world.people["bob"])
    after = world.queue.approve(req.id, by=world.people["owen"])
    assert after.state is ApprovalState.APPROVED
    assert after.approved_by == ("alice", "owen")


def test_an_escalated_request_that_expires_again_is_final(world):
    _, _req = held(world, *PAYOUT)
    world.clock.advance(1800)
    world.queue.requests.expire_due()
    world.clock.advance(1800)
    (final,) = world.queue.requests.expire_due()
    assert final.state is ApprovalState.EXPIRED
    assert world.queue.requests.expire_due() == []


def test_expiry_in_the_middle_of_a_vote_when_escalation_is_due(world):
    _, req = held(world, *PAYOUT)
    world.clock.advance(1801)
    with pytest.raises(ApprovalStateError, match="escalated to finance-owner"):
        world.queue.approve(req.id, by=world.people["alice"])
    assert world.queue.get(req.id).escalated
