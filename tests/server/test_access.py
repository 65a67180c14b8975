"""Who may do what: every role against every endpoint it must not reach. An agent key can
never approve, read another agent's or tenant's session, or change policy or controls."""

from __future__ import annotations

import pytest


def _hold(world, who="bot", tenant="acme"):
    sid = world.open(who, tenant)
    d = world.post(
        f"/v1/sessions/{sid}/decide",
        who,
        {"tool": "payments.refund", "args": {"order_id": "O-1", "amount": 300.0}},
    ).json()
    return sid, d["approval_id"]


def test_no_or_wrong_credentials_are_401(world):
    assert world.client.post("/v1/sessions", json={}).status_code == 401
    bad = {"X-Proctor-Key": "bot:pk_wrong"}
    r = world.client.get("/v1/approvals", headers=bad)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    for header in ("Basic Ym90OnBr", "Bearer nocolon", "Bearer "):
        assert (
            world.client.get("/v1/approvals", headers={"Authorization": header}).status_code == 401
        )
    assert (
        world.client.get("/v1/approvals", headers={"X-Proctor-Key": "ghost:pk_x"}).status_code
        == 401
    )


def test_bearer_token_works_like_the_api_key(world):
    r = world.client.get("/v1/approvals", headers=world.h("alice", bearer=True))
    assert r.status_code == 200


def test_disabled_key_stops_working(world):
    root = world.gateway.queue.access.authenticate("root", world.keys["root"])
    world.gateway.queue.access.disable("bot2", by=root)
    world.gateway.auth.forget()  # else within auth_cache_seconds
    r = world.post(
        "/v1/sessions", "bot2", {"agent": "refunds-bot", "principal": "p", "tenant": "acme"}
    )
    assert r.status_code == 401


def test_agent_key_can_never_approve_or_deny(world):
    _, apr = _hold(world)
    for verb in ("approve", "deny"):
        r = world.post(f"/v1/approvals/{apr}/{verb}", "bot", {"note": "self-service"})
        assert r.status_code == 403, r.text
    assert world.get(f"/v1/approvals/{apr}", "alice").json()["state"] == "pending"


def test_agent_key_cannot_read_another_agents_or_tenants_session(world):
    sid, apr = _hold(world, "bot", "acme")
    for other in ("bot2", "globex-bot", "hr"):
        assert world.get(f"/v1/sessions/{sid}", other).status_code == 404
        assert world.get(f"/v1/audit/sessions/{sid}/story", other).status_code == 404
        assert world.get(f"/v1/approvals/{apr}", other).status_code == 404
        assert (
            world.post(f"/v1/approvals/{apr}/wait", other, params={"timeout": 0}).status_code == 404
        )
        assert world.post(f"/v1/approvals/{apr}/claim", other).status_code == 404
        for verb in ("decide", "call"):
            r = world.post(
                f"/v1/sessions/{sid}/{verb}",
                other,
                {"tool": "orders.get", "args": {"order_id": "O-1"}},
            )
            assert r.status_code == 404
        r = world.post(f"/v1/sessions/{sid}/ingest", other, {"content": "x", "source": "user"})
        assert r.status_code == 404
        assert world.post(f"/v1/sessions/{sid}/close", other).status_code == 404
        assert world.get("/v1/approvals", other).json()["approvals"] == []
    assert world.get(f"/v1/sessions/{sid}", "bot").status_code == 200


def test_agent_key_opens_sessions_only_for_its_agents_and_tenants(world):
    cases = [
        ("bot", "refunds-bot", "globex"),
        ("bot", "hr-bot", "acme"),
        ("globex-bot", "refunds-bot", "acme"),
    ]
    for who, agent, tenant in cases:
        r = world.post("/v1/sessions", who, {"agent": agent, "principal": "p", "tenant": tenant})
        assert r.status_code == 403, (who, agent, tenant)
    assert world.open("hr", "anyone", agent="hr-bot")  # "*": any tenant, granted explicitly


def test_people_cannot_open_or_act_in_sessions(world):
    sid = world.open()
    for who in ("root", "alice", "audrey", "otto", "victor"):
        r = world.post(
            "/v1/sessions", who, {"agent": "refunds-bot", "principal": "p", "tenant": "acme"}
        )
        assert r.status_code == 403
        r = world.post(
            f"/v1/sessions/{sid}/decide", who, {"tool": "orders.get", "args": {"order_id": "O-1"}}
        )
        assert r.status_code == 403


def test_agent_key_cannot_change_policy_controls_or_audit(world):
    assert (
        world.post(
            "/v1/agents/refunds-bot/pause", "bot", {"reason": "I want a break now"}
        ).status_code
        == 403
    )
    assert world.post("/v1/agents/refunds-bot/resume", "bot", {}).status_code == 403
    assert world.get("/v1/policies", "bot").status_code == 403
    assert world.get("/v1/audit/verify", "bot").status_code == 403
    assert world.get("/v1/audit/export", "bot").status_code == 403
    # nothing in the API changes a policy: no route accepts a write under /v1/policies
    for method in ("post", "put", "patch", "delete"):
        r = getattr(world.client, method)("/v1/policies", headers=world.h("root"))
        assert r.status_code == 405
    # and an agent cannot widen its own grant or mint keys: that is the CLI, for admins
    paths = {route.path for route in world.client.app.routes}
    assert not any("access" in p or "grant" in p or "breakglass" in p for p in paths)


@pytest.mark.parametrize(
    ("who", "status"), [("alice", 200), ("victor", 200), ("audrey", 200), ("otto", 403)]
)
def test_reading_the_queue_needs_a_reader_role(world, who, status):
    assert world.get("/v1/approvals", who).status_code == status


def test_only_approvers_approve_and_only_operators_pause(world):
    _, apr = _hold(world)
    for who in ("victor", "audrey", "otto", "root"):
        assert world.post(f"/v1/approvals/{apr}/approve", who, {}).status_code == 403
    for who in ("alice", "audrey", "victor"):
        assert (
            world.post(
                "/v1/agents/refunds-bot/pause", who, {"reason": "for no good reason"}
            ).status_code
            == 403
        )
    assert (
        world.post(
            "/v1/agents/refunds-bot/pause", "root", {"reason": "admin may pause too"}
        ).status_code
        == 200
    )


def test_auditor_reads_every_session_but_acts_in_none(world):
    sid = world.open()
    assert world.get(f"/v1/sessions/{sid}", "audrey").status_code == 200
    assert world.get(f"/v1/audit/sessions/{sid}/story", "audrey").status_code == 200
    r = world.post(f"/v1/sessions/{sid}/close", "audrey")
    assert r.status_code == 403


def test_policies_are_listed_for_admins_and_auditors(world):
    agents = {p["agent"] for p in world.get("/v1/policies", "audrey").json()["policies"]}
    assert agents == {"refunds-bot", "hr-bot"}
