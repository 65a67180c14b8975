"""``proctor approvals approve ID --set NAME=VALUE | --args-file FILE``: approve with edit from
the shell; ``--policy`` judges the edit first; ``--if-version`` refuses a stale read."""

from __future__ import annotations

import json

import pytest

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState

from ._world import policy_text
from .test_cli import cli


@pytest.fixture
def pending(world):
    session = world.session()
    out = world.gate.call(session, "payments.refund", {"order_id": "O-1", "amount": 250.0})
    assert out.status is OutcomeStatus.PENDING
    return world, session, out


def test_set_edits_one_argument_and_the_agent_runs_the_edited_call(pending):
    world, session, out = pending
    res = cli(world, "approvals", "approve", out.approval_id, "--set", "amount=50", who="alice")
    assert res.exit_code == 0, res.output
    assert "approved" in res.stdout
    assert "edited by alice: amount: 250.0 -> 50" in res.stdout
    done = world.queue.ticket(out, session).outcome(timeout=10)
    assert done.executed
    assert world.refunds == [("O-1", 50.0)]
    shown = json.loads(
        cli(world, "approvals", "show", out.approval_id, "--json", who="vera").stdout
    )
    assert shown["original_args"] == {"order_id": "O-1", "amount": 250.0}
    assert shown["edited_by"] == "alice"


def test_args_file_replaces_the_arguments(pending, tmp_path):
    world, _, out = pending
    f = tmp_path / "edited.json"
    f.write_text(json.dumps({"order_id": "O-1", "amount": 75.5}))
    res = cli(world, "approvals", "approve", out.approval_id, "--args-file", str(f), who="alice")
    assert res.exit_code == 0, res.output
    assert world.queue.get(out.approval_id).args == {"order_id": "O-1", "amount": 75.5}


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        (["--set", "amount"], "expected NAME=VALUE"),
        (["--set", "=5"], "expected NAME=VALUE"),
        (["--set", "amount=250.0"], "changes no argument"),
        (["--set", "amount=NaN"], "not JSON"),
    ],
)
def test_bad_edits_exit_1_and_change_nothing(pending, extra, why):
    world, _, out = pending
    res = cli(world, "approvals", "approve", out.approval_id, *extra, who="alice")
    assert res.exit_code == 1, res.output
    assert why in res.output
    req = world.queue.get(out.approval_id)
    assert (req.state, req.edits) == (ApprovalState.PENDING, ())


def test_policy_judges_the_edit_before_it_is_recorded(pending, tmp_path):
    world, session, out = pending
    policy = tmp_path / "refunds.yaml"
    policy.write_text(policy_text())
    rid = out.approval_id
    res = cli(
        world,
        "approvals",
        "approve",
        rid,
        "--set",
        "amount=5000",
        "--policy",
        str(policy),
        who="alice",
    )
    assert res.exit_code == 1, res.output
    assert "refund.over-1000" in res.output
    assert world.queue.get(rid).state is ApprovalState.PENDING
    # without --policy the store records it; the agent's gate refuses it before it runs
    res = cli(world, "approvals", "approve", rid, "--set", "amount=5000", who="alice")
    assert res.exit_code == 0, res.output
    done = world.queue.ticket(out, session).outcome(timeout=10)
    assert done.state is ApprovalState.FAILED
    assert world.refunds == []


def test_if_version_refuses_a_stale_read(pending):
    world, _, out = pending
    version = world.queue.get(out.approval_id).version
    world.queue.requests.approve(
        out.approval_id, world.people["bob"], args={"order_id": "O-1", "amount": 99.0}
    )
    res = cli(
        world, "approvals", "approve", out.approval_id, "--if-version", str(version), who="alice"
    )
    assert res.exit_code == 1, res.output
    assert "changed since you read it" in res.output


def test_a_plain_approve_of_an_edited_request_needs_the_version_shown(world):
    """Two-person payout: bob edits it; alice's ``approve`` without --if-version (the CLI
    would otherwise read the edited version itself) is refused; with the version that
    ``show`` printed, it counts."""
    session = world.session()
    out = world.gate.call(session, "payouts.send", {"account": "ACC-1", "amount": 10.0})
    assert out.status is OutcomeStatus.PENDING
    rid = out.approval_id
    shown = cli(world, "approvals", "show", rid, who="alice").stdout
    assert "(version 1)" in shown
    world.queue.approve(rid, by=world.people["bob"], args={"account": "ACC-EVIL", "amount": 9.0})
    res = cli(world, "approvals", "approve", rid, who="alice")
    assert res.exit_code == 1, res.output
    assert "edited by bob" in res.output
    assert "--if-version 2" in res.output
    res = cli(world, "approvals", "approve", rid, "--if-version", "1", who="alice")
    assert res.exit_code == 1, res.output
    assert world.queue.get(rid).approved_by == ("bob",)
    assert "(version 2)" in cli(world, "approvals", "show", rid, who="alice").stdout
    res = cli(world, "approvals", "approve", rid, "--if-version", "2", who="alice")
    assert res.exit_code == 0, res.output
    assert world.queue.get(rid).state is ApprovalState.APPROVED
