"""Approve with edit over HTTP: ``args`` in the approve body; the edit in the approval, the
agent's wait and its claim; a refused edit is a 422 and changes nothing; the tool never
changes."""

from __future__ import annotations

import pytest


def _held(world, tool="payments.send", amount=250.0, how="call"):
    sid = world.open()
    r = world.post(
        f"/v1/sessions/{sid}/{how}",
        "bot",
        {"tool": tool, "args": {"order_id": "O-1", "amount": amount}},
    ).json()
    assert r["status"] == "pending", r
    return r["approval_id"]


def test_approve_with_edit_runs_the_edited_call_once_and_the_agent_gets_the_diff(world, endpoints):
    apr = _held(world)
    shown = world.get(f"/v1/approvals/{apr}", "alice").json()
    ok = world.post(
        f"/v1/approvals/{apr}/approve",
        "alice",
        {"note": "lower", "args": {"order_id": "O-1", "amount": 40.0}, "version": shown["version"]},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["args"] == {"order_id": "O-1", "amount": 40.0}
    assert body["edit"]["by"] == "alice"
    assert body["edit"]["original"] == {"order_id": "O-1", "amount": 250.0}
    res = world.post(f"/v1/approvals/{apr}/wait", "bot", params={"timeout": 10}).json()
    assert res["state"] == "executed"
    assert res["edit"]["changes"] == [
        {"field": "amount", "old": 250.0, "new": 40.0, "kind": "changed"}
    ]
    sent = [q for q in endpoints.requests if q.url.host == "payments.test"]
    assert len(sent) == 1
    assert b"40.0" in sent[0].content
    again = world.post(f"/v1/approvals/{apr}/wait", "bot", params={"timeout": 1}).json()
    assert again["state"] == "executed"
    assert len([q for q in endpoints.requests if q.url.host == "payments.test"]) == 1


def test_a_claim_tells_an_agent_that_runs_the_tool_itself_the_edited_arguments(world):
    apr = _held(world, tool="payments.refund", amount=300.0, how="decide")
    world.post(
        f"/v1/approvals/{apr}/approve", "alice", {"args": {"order_id": "O-1", "amount": 120.0}}
    )
    claim = world.post(f"/v1/approvals/{apr}/claim", "bot")
    assert claim.status_code == 200, claim.text
    assert claim.json()["args"] == {"order_id": "O-1", "amount": 120.0}
    assert claim.json()["edit"]["changes"][0]["new"] == 120.0


@pytest.mark.parametrize(
    ("body", "status", "why"),
    [
        ({"args": {"order_id": "O-1", "amount": 5000.0}}, 422, "refund.over-1000"),
        ({"args": {"order_id": "O-1", "amount": "ten"}}, 422, "schema.payments.refund"),
        ({"args": {"order_id": "O-1", "amount": 300.0}}, 422, "changes no argument"),
        ({"args": {"order_id": "O-1", "amount": 50.0}, "tool": "payments.send"}, 422, "tool"),
        ({"args": {"order_id": "O-1", "amount": 50.0}, "version": 99}, 409, "changed since"),
        ({"args": [1, 2]}, 422, "args"),
    ],
    ids=["over-limit", "schema", "unchanged", "tool-field", "stale-version", "not-an-object"],
)
def test_refused_edits_change_nothing(world, body, status, why):
    apr = _held(world, tool="payments.refund", amount=300.0, how="decide")
    r = world.post(f"/v1/approvals/{apr}/approve", "alice", body)
    assert r.status_code == status, r.text
    assert why in r.text
    after = world.get(f"/v1/approvals/{apr}", "alice").json()
    assert after["state"] == "pending"
    assert after["args"] == {"order_id": "O-1", "amount": 300.0}
    assert after["edit"] is None
    assert after["votes"] == []


def test_an_agent_key_cannot_edit(world):
    apr = _held(world)
    r = world.post(
        f"/v1/approvals/{apr}/approve", "bot", {"args": {"order_id": "O-1", "amount": 1.0}}
    )
    assert r.status_code == 403


SECRET = "gh" + "p_" + "aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0zC" + "aB3d"  # a token's shape


def test_an_approve_without_the_version_of_an_edited_request_is_a_409(make, monkeypatch):
    """Two approvers: bob edits after alice read the request; alice's approve without a
    version, or with the version she read, is refused (409) and counts for nothing."""
    from proctor.approvals import Role

    from . import _world

    two = _world.POLICY.replace("approvers: 1, group: finance", "approvers: 2, group: finance")
    monkeypatch.setattr(_world, "POLICY", two)
    world = make()
    access = world.gateway.queue.access
    root = access.authenticate("root", world.keys["root"])
    world.keys["bob"] = access.add("bob", [Role.APPROVER], ["finance"], by=root)
    apr = _held(world, tool="payments.refund", amount=300.0, how="decide")
    seen = world.get(f"/v1/approvals/{apr}", "alice").json()["version"]
    edited = {"order_id": "O-EVIL", "amount": 900.0}
    r = world.post(f"/v1/approvals/{apr}/approve", "bob", {"args": edited, "version": seen})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "pending"
    plain = world.post(f"/v1/approvals/{apr}/approve", "alice", {"note": "ok"})
    assert plain.status_code == 409, plain.text
    assert "edited by bob" in plain.text
    stale = world.post(f"/v1/approvals/{apr}/approve", "alice", {"version": seen})
    assert stale.status_code == 409, stale.text
    assert "changed since you read it" in stale.text
    after = world.get(f"/v1/approvals/{apr}", "alice").json()
    assert (after["state"], [v["approver"] for v in after["votes"]]) == ("pending", ["bob"])
    ok = world.post(f"/v1/approvals/{apr}/approve", "alice", {"version": after["version"]})
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "approved"


def test_the_agent_gets_an_edit_through_its_data_view_in_show_and_claim(world):
    """A reviewer types a secret in clear: the reviewer sees it, the agent only masked."""
    apr = _held(world, tool="payments.refund", amount=300.0, how="decide")
    field, args = "order_id", {"order_id": SECRET, "amount": 300.0}
    ok = world.post(f"/v1/approvals/{apr}/approve", "alice", {"args": args})
    assert ok.status_code == 200, ok.text
    assert ok.json()["args"][field] == SECRET  # the reviewer sees what runs
    shown = world.get(f"/v1/approvals/{apr}", "bot")
    assert shown.status_code == 200, shown.text
    listed = world.get("/v1/approvals", "bot", params={"state": "approved"})
    assert listed.status_code == 200, listed.text
    assert apr in listed.text
    claim = world.post(f"/v1/approvals/{apr}/claim", "bot")
    assert claim.status_code == 200, claim.text
    for said in (shown.text, listed.text, claim.text):
        assert SECRET not in said
        assert "ghp_" in said
    assert claim.json()["edit"]["changes"][0]["field"] == field
