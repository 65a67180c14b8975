"""Budgets through the HTTP gateway: one account for every gateway process (in the SQL store,
or in Redis with ``PROCTOR_BUDGETS=redis``); ``decide`` counts the spend when it allows."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from proctor.budgets import RedisLedger, SqlLedger
from proctor.errors import GatewayConfigError
from proctor.server import Gateway, create_app
from server._world import World, running, settings_for, write_policies

BUDGET = """budgets:
  refunds:
    limit: 100
    unit: USD
    window: 1 day
    tools: {payments.refund: args.amount, payments.send: args.amount}
    on_exceed: hold
"""


def _policies(tmp_path):
    d = write_policies(tmp_path)
    path = d / "refunds.yaml"
    path.write_text(path.read_text() + BUDGET)
    return d


async def _pay(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def _spend(w: World, sid: str) -> list[str]:
    out = []
    for path, amount in [("decide", 60.0), ("call", 30.0), ("decide", 20.0)]:
        tool = "payments.refund" if path == "decide" else "payments.send"
        r = w.post(
            f"/v1/sessions/{sid}/{path}",
            "bot",
            {"tool": tool, "args": {"order_id": "O1", "amount": amount}},
        )
        assert r.status_code == 200, r.text
        out.append(r.json()["status"])
    return out


def test_two_gateway_processes_share_one_budget_in_the_store(db_url, tmp_path):
    settings = settings_for(db_url, _policies(tmp_path))
    with running(settings, httpx.MockTransport(_pay)) as one:
        assert isinstance(one.gateway.gate.budgets, SqlLedger)
        sid = one.open()
        assert _spend(one, sid)[:2] == ["allowed", "executed"]
        other = Gateway(settings, transport=httpx.MockTransport(_pay))  # another process
        try:
            with TestClient(create_app(settings, gateway=other)) as client:
                two = World(other, client, one.keys)
                r = two.post(
                    f"/v1/sessions/{two.open()}/decide",
                    "bot",
                    {"tool": "payments.refund", "args": {"order_id": "O2", "amount": 10.1}},
                )
                body = r.json()
                assert body["status"] == "pending", body
                assert "budget.refunds" in body["rule_ids"]
        finally:
            other.close()


def test_budgets_in_redis_when_asked(pg_url, tmp_path, redis_server, redis_prefix, monkeypatch):
    monkeypatch.setenv("PROCTOR_BUDGETS", "redis")
    settings = settings_for(
        pg_url, _policies(tmp_path), redis_url=redis_server, redis_prefix=redis_prefix
    )
    with running(settings, httpx.MockTransport(_pay)) as w:
        assert isinstance(w.gateway.gate.budgets, RedisLedger)
        assert _spend(w, w.open()) == ["allowed", "executed", "pending"]


def test_redis_budgets_without_redis_refuse_to_start(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PROCTOR_BUDGETS", "redis")
    with (
        pytest.raises(GatewayConfigError, match="PROCTOR_BUDGETS"),
        running(settings_for(sqlite_url, _policies(tmp_path))),
    ):
        pass


def _answer(kind: str):
    async def handler(request: httpx.Request) -> httpx.Response:
        if kind == "502":
            return httpx.Response(502, text="bad gateway")
        if kind == "read-timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        if kind == "bad-json":
            return httpx.Response(200, content=b"{", headers={"content-type": "application/json"})
        if kind == "connect-error":
            raise httpx.ConnectError("connection refused", request=request)
        raise httpx.ConnectTimeout("no connection", request=request)

    return handler


@pytest.mark.parametrize(
    ("kind", "spent"),
    [
        ("502", True),
        ("read-timeout", True),
        ("bad-json", True),
        ("connect-error", False),
        ("connect-timeout", False),
    ],
)
def test_an_http_tool_that_failed_after_sending_keeps_its_spend(kind, spent, db_url, tmp_path):
    """review H1: once the request left, the endpoint may have paid: the spend counts. Only a
    connection that never opened (nothing sent) gives the reservation back."""
    settings = settings_for(db_url, _policies(tmp_path))
    with running(settings, httpx.MockTransport(_answer(kind))) as w:
        sid = w.open()
        r = w.post(
            f"/v1/sessions/{sid}/call",
            "bot",
            {"tool": "payments.send", "args": {"order_id": "O1", "amount": 60.0}},
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "failed", r.json()
        r = w.post(
            f"/v1/sessions/{sid}/decide",
            "bot",
            {"tool": "payments.refund", "args": {"order_id": "O2", "amount": 50.0}},
        )
        assert r.json()["status"] == ("pending" if spent else "allowed"), r.json()
