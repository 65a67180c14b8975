"""Who may approve: approvers, from the required groups, distinct people, never the requester
nor the agent itself. Refusals write nothing but an alert."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState, Role
from proctor.audit import EventKind
from proctor.errors import AccessDeniedError, AuthenticationError
from proctor.store import approval_requests as t

PAYOUT = {"account": "ACC-1", "amount": 10.0}


def held(world, tool="payments.refund", args=None, principal="ticket:T-1"):
    args = args or {"order_id": "O-1", "amount": 250.0}
    out = world.gate.call(world.session(principal=principal), tool, args)
    assert out.status is OutcomeStatus.PENDING
    return world.queue.get(out.approval_id)


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("vera", "not an approver"),
        ("otto", "not an approver"),
        ("root", "not an approver"),
        ("carol", "needs a member of finance"),
    ],
)
def test_only_approvers_of_a_required_group_vote(world, who, why):
    req = held(world)
    with pytest.raises(AccessDeniedError, match=why):
        world.queue.approve(req.id, by=world.people[who])
    with pytest.raises(AccessDeniedError, match=why):
        world.queue.deny(req.id, by=world.people[who], note="no")
    after = world.queue.get(req.id)
    assert (after.state, after.votes) == (ApprovalState.PENDING, ())
    alerts = [r.body for r in world.log.records() if r.kind == EventKind.ALERT]
    assert sum(a["alert"] == "approval.refused" for a in alerts) == 2


@pytest.mark.parametrize("principal", ["alice", "ALICE", "refunds-bot", "svc-refunds"])
def test_the_requester_and_the_agent_never_approve_their_own_call(world, principal):
    """The session's principal, the agent and its service role are excluded, case-blind."""
    access = world.queue.access
    if principal != "alice":
        key = access.add(principal, [Role.APPROVER], ["finance"], by=world.people["root"])
        me = access.authenticate(principal, key)
    else:
        me = world.people["alice"]
    req = held(world, principal="alice" if principal in ("alice", "ALICE") else "ticket:T-1")
    with pytest.raises(AccessDeniedError, match="two-person rule"):
        world.queue.approve(req.id, by=me)
    assert world.queue.get(req.id).state is ApprovalState.PENDING


def test_two_person_rule_needs_two_distinct_approvers(world):
    req = held(world, "payouts.send", PAYOUT)
    assert req.approvers == 2  # two_person: true in the policy, although approvers is 1
    after = world.queue.approve(req.id, by=world.people["alice"])
    assert after.state is ApprovalState.PENDING
    assert after.missing() == "1 more approver(s)"
    with pytest.raises(AccessDeniedError, match="already voted"):
        world.queue.approve(req.id, by=world.people["alice"])
    after = world.queue.approve(req.id, by=world.people["bob"])
    assert after.state is ApprovalState.APPROVED
    assert after.approved_by == ("alice", "bob")


def test_one_denial_is_a_veto(world):
    req = held(world, "payouts.send", PAYOUT)
    world.queue.approve(req.id, by=world.people["alice"])
    after = world.queue.deny(req.id, by=world.people["bob"], note="unknown account")
    assert after.state is ApprovalState.DENIED
    assert after.decided_by == "bob"


def test_every_required_group_must_be_represented(world):
    """A call held by a finance rule and a support rule needs someone from each."""
    req = held(world)
    with world.queue.engine.begin() as conn:
        conn.execute(update(t).where(t.c.id == req.id).values(groups='["finance","support"]'))
    after = world.queue.approve(req.id, by=world.people["alice"])
    assert after.state is ApprovalState.PENDING
    assert after.missing() == "a member of support"
    after = world.queue.approve(req.id, by=world.people["carol"])
    assert after.state is ApprovalState.APPROVED


def test_a_principal_disabled_after_authenticating_cannot_vote(world):
    req = held(world)
    alice = world.people["alice"]
    world.queue.access.disable("alice", by=world.people["root"])
    with pytest.raises(AccessDeniedError, match="unknown or disabled"):
        world.queue.approve(req.id, by=alice)


def test_roles_are_read_from_the_registry_not_from_the_callers_object(world):
    """A Principal built by hand is refused, whatever name and roles it claims; one that did
    authenticate acts with the roles the registry has now."""
    from proctor.approvals import Principal

    req = held(world)
    for name in ("vera", "alice"):
        forged = Principal(name, frozenset({Role.APPROVER}), frozenset({"finance"}))
        with pytest.raises(AuthenticationError, match="not authenticated in this process"):
            world.queue.approve(req.id, by=forged)
    vera = world.people["vera"]
    claims = Principal("vera", frozenset({Role.APPROVER}), frozenset({"finance"}), vera.proof)
    with pytest.raises(AccessDeniedError, match="not an approver"):
        world.queue.approve(req.id, by=claims)
    assert world.queue.get(req.id).votes == ()


# -- property: whatever the sequence of votes, the rule holds ------------------------------------

VOTERS = ["alice", "bob", "carol", "vera", "owen", "root"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.sampled_from(VOTERS), st.sampled_from(["approve", "deny"])), max_size=6)
)
def test_approved_only_by_two_distinct_eligible_people(sqlite_world, votes):
    world = sqlite_world
    req = held(world, "payouts.send", PAYOUT)
    accepted: list[tuple[str, str]] = []
    for who, vote in votes:
        try:
            getattr(world.queue, vote)(req.id, by=world.people[who], note="n")
        except Exception:
            continue
        accepted.append((who, vote))
    final = world.queue.get(req.id)
    eligible = {"alice", "bob"}  # approvers in finance
    assert {w for w, _ in accepted} <= eligible
    yes = [w for w, v in accepted if v == "approve"]
    assert len(yes) == len(set(yes))
    if final.state is ApprovalState.APPROVED:
        assert set(yes) == eligible
        assert "deny" not in [v for _, v in accepted]
    elif final.state is ApprovalState.DENIED:
        assert accepted[-1][1] == "deny"
    else:
        assert final.state is ApprovalState.PENDING
        assert len(set(yes)) < 2


@pytest.fixture
def sqlite_world(tmp_path_factory):
    from ._world import make_world

    world = make_world(f"sqlite:///{tmp_path_factory.mktemp('hyp') / 'p.db'}")
    yield world
    world.close()
