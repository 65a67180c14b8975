"""The agent's side: a ticket it can poll or wait on with a timeout, synchronously or not (one
algorithm); in a process whose gate has the tool, the ticket executes the approved call."""

from __future__ import annotations

import asyncio
import threading

import pytest

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState, idempotency_key
from proctor.errors import GateClosedError

BIG = {"order_id": "O-1", "amount": 250.0}


def held(world, session=None):
    out = world.gate.call(session or world.session(), "payments.refund", BIG)
    assert out.status is OutcomeStatus.PENDING
    return out


def ticket_of(world, out):
    """The ticket, bound to the session that made the call (as the agent has it)."""
    return world.queue.ticket(out, world.queue.get(out.approval_id).session())


def test_poll_and_timeout_while_pending(world):
    ticket = ticket_of(world, held(world))
    res = ticket.poll()
    assert (res.state, res.done, res.result) == (ApprovalState.PENDING, False, None)
    late = ticket.outcome(timeout=0.2)
    assert late.state is ApprovalState.PENDING
    assert not late.done
    assert world.refunds == []


def test_waiting_sees_an_approval_given_meanwhile_and_executes_it(world):
    out = held(world)
    ticket = ticket_of(world, out)
    timer = threading.Timer(
        0.3, world.queue.approve, [out.approval_id], {"by": world.people["alice"]}
    )
    timer.start()
    try:
        res = ticket.outcome(timeout=30)
    finally:
        timer.join()
    assert res.state is ApprovalState.EXECUTED
    assert res.executed
    assert res.result == "refunded 250.00 on O-1"
    assert res.decided_by == "alice"
    assert world.refunds == [("O-1", 250.0)]


def test_async_waiting_is_the_same_algorithm(world):
    out = held(world)

    async def agent():
        ticket = ticket_of(world, out)
        first = await ticket.apoll()
        await asyncio.to_thread(
            world.queue.deny, out.approval_id, by=world.people["bob"], note="not this one"
        )
        return first, await ticket.aoutcome(timeout=30)

    first, res = asyncio.run(agent())
    assert first.state is ApprovalState.PENDING
    assert (res.state, res.note, res.result) == (ApprovalState.DENIED, "not this one", None)
    assert world.refunds == []


def test_polling_without_executing_leaves_it_to_a_worker(world):
    out = held(world)
    world.queue.approve(out.approval_id, by=world.people["alice"])
    ticket = ticket_of(world, out)
    assert ticket.outcome(timeout=0.1, execute=False).state is ApprovalState.APPROVED
    assert world.queue.worker().run_once().executed == [out.approval_id]
    assert ticket.poll().executed


def test_the_sync_api_refuses_to_run_inside_an_event_loop(world):
    ticket = ticket_of(world, held(world))

    async def wrong():
        ticket.outcome(timeout=1)

    with pytest.raises(GateClosedError, match="await"):
        asyncio.run(wrong())


def test_an_outcome_that_was_not_held_has_no_ticket(world):
    s = world.session()
    out = world.gate.call(s, "payments.refund", {"order_id": "O", "amount": 5.0})
    with pytest.raises(ValueError, match="not held"):
        world.queue.ticket(out, s)


def test_the_tool_sees_the_idempotency_key_only_when_running_an_approved_call(make):
    seen: list[object] = []

    def wrap(fn):
        def refund(order_id: str, amount: float) -> str:
            seen.append(idempotency_key())
            return fn(order_id, amount)

        return refund

    world = make(tool_wrapper=wrap)
    world.gate.call(world.session(), "payments.refund", {"order_id": "O", "amount": 5.0})
    out = held(world)
    world.queue.approve(out.approval_id, by=world.people["alice"])
    ticket_of(world, out).outcome(timeout=10)
    assert seen == [None, f"idem_{out.approval_id}"]


def test_an_approved_call_executed_elsewhere_enters_the_agents_session(make):
    """The output of a call executed by another process is ingested into the session that
    waits for it, so provenance keeps working for the agent's next calls."""
    agent = make()
    worker = make(people=False, clock=agent.clock)
    s = agent.session()
    out = agent.gate.call(s, "payments.refund", BIG)
    agent.queue.approve(out.approval_id, by=agent.people["alice"])
    assert worker.queue.worker().execute(out.approval_id).status is OutcomeStatus.EXECUTED
    res = agent.queue.ticket(out, s).outcome(timeout=10)
    assert res.executed
    assert agent.refunds == []
    assert worker.refunds == [("O-1", 250.0)]
    contents = asyncio.run(agent.gate.flow.contents(s))
    assert contents[-1].source == "tool:payments.refund"
    assert contents[-1].pieces[0].text == "refunded 250.00 on o-1"  # normalized


def test_the_agent_can_withdraw_its_request(world):
    out = held(world)
    res = ticket_of(world, out).cancel("customer changed their mind")
    assert res.state is ApprovalState.CANCELLED
    assert res.done
    assert world.queue.get(out.approval_id).decided_by == "agent:refunds-bot"


# -- a ticket is its session's (review finding 8) ------------------------------------------------


def intruders(world, s):
    """Sessions that know the request id but did not make the call."""
    from dataclasses import replace

    return {
        "same-agent-and-tenant": world.session(),
        "other-tenant": world.session(tenant="globex"),
        "same-id-other-tenant": replace(s, tenant="globex"),
        "other-environment": world.session(environment="staging"),
    }


@pytest.mark.parametrize(
    "who", ["same-agent-and-tenant", "other-tenant", "same-id-other-tenant", "other-environment"]
)
def test_another_session_can_neither_read_nor_cancel_a_ticket(world, who):
    from proctor.audit import EventKind
    from proctor.errors import AccessDeniedError

    s = world.session()
    out = held(world, s)
    other = intruders(world, s)[who]
    ticket = world.queue.ticket(out.approval_id, other)
    with pytest.raises(AccessDeniedError, match="belongs to another session"):
        ticket.cancel("not mine to cancel")
    with pytest.raises(AccessDeniedError, match="belongs to another session"):
        ticket.poll()
    assert world.queue.get(out.approval_id).state is ApprovalState.PENDING  # not withdrawn
    assert world.refunds == []  # polling with execute did not run it either

    world.queue.approve(out.approval_id, by=world.people["alice"])
    with pytest.raises(AccessDeniedError):
        ticket.outcome(timeout=1)
    assert world.queue.get(out.approval_id).state is ApprovalState.APPROVED
    assert world.refunds == []
    mine = world.queue.ticket(out, s).outcome(timeout=10)
    assert mine.executed
    # the result is the owner's alone: the other session still learns nothing
    with pytest.raises(AccessDeniedError):
        ticket.poll()
    alerts = [r.body for r in world.log.records() if r.kind == EventKind.ALERT]
    refused = [a for a in alerts if a["alert"] == "approval.refused"]
    assert len(refused) == 4
    assert all(other.id in a["message"] and out.approval_id in a["message"] for a in refused)
