from proctor import OutcomeStatus
from proctor.approvals import ApprovalState


def test_hold_approve_execute(world):
    s = world.session()
    out = world.gate.call(s, "payments.refund", {"order_id": "O-1", "amount": 250.0})
    assert out.status is OutcomeStatus.PENDING
    req = world.queue.get(out.approval_id)
    assert req.state is ApprovalState.PENDING
    req = world.queue.approve(req.id, by=world.people["alice"])
    assert req.state is ApprovalState.APPROVED
    res = world.queue.ticket(out).outcome(timeout=5)
    assert res.state is ApprovalState.EXECUTED, res
    assert world.refunds == [("O-1", 250.0)]
