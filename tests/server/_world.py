"""A gateway on a real store with principals for every role, driven through HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from proctor.approvals import Role
from proctor.audit import AuditSettings
from proctor.server import Gateway, GatewaySettings, create_app
from proctor.store import StoreSettings

SEED = "5e" * 32

POLICY = """
version: 1
agent: {name: refunds-bot, role: svc-refunds, owner: finance-ops}
environments:
  production: {max_autonomy: write}
  staging: {max_autonomy: write}
defaults:
  approval: {approvers: 1, group: finance}
tools:
  orders.get:
    autonomy: read
    args: {order_id: string}
    output: {trust: trusted}
  orders.fetch:
    autonomy: read
    args: {order_id: string}
    http: {url: "http://orders.test/orders/{order_id}", method: GET}
  orders.slow:
    autonomy: read
    args: {order_id: string}
    timeout_seconds: 0.2
    http: {url: "http://slow.test/orders/{order_id}", method: GET}
  payments.refund:
    autonomy: write
    args:
      order_id: string
      amount: {type: number, minimum: 0}
    constraints:
      - id: refund.over-100
        when: args.amount > 100.0
        verdict: hold
        reason: Refunds above 100 need a finance approver.
      - id: refund.over-1000
        when: args.amount > 1000.0
        verdict: deny
        reason: Refunds above 1000 are never made by an agent.
  payments.send:
    autonomy: write
    args: {order_id: string, amount: number}
    http: {url: "http://payments.test/refunds", method: POST}
    constraints:
      - id: send.over-100
        when: args.amount > 100.0
        verdict: hold
        reason: Payments above 100 need a finance approver.
  email.send:
    autonomy: write
    args: {to: string, body: string}
    rate_limit:
      per_agent: RATE
"""

OTHER = """
version: 1
agent: {name: hr-bot, role: svc-hr, owner: hr-ops}
environments:
  production: {max_autonomy: read}
tools:
  staff.get:
    autonomy: read
    args: {name: string}
"""


def write_policies(root: Path, rate: str = "1000/minute") -> Path:
    d = root / "policies"
    d.mkdir(exist_ok=True)
    (d / "refunds.yaml").write_text(POLICY.replace("RATE", rate))
    (d / "hr.yaml").write_text(OTHER)
    return d


def settings_for(url: str, policy: Path, **kw: Any) -> GatewaySettings:
    audit = AuditSettings(store=StoreSettings(database_url=url), signing_key=SEED)
    return GatewaySettings(policy=policy, audit=audit, **kw)


@dataclass
class World:
    gateway: Gateway
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)

    def h(self, who: str, bearer: bool = False) -> dict[str, str]:
        cred = f"{who}:{self.keys[who]}"
        return {"Authorization": f"Bearer {cred}"} if bearer else {"X-Proctor-Key": cred}

    def post(self, path: str, who: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.client.post(path, headers=self.h(who), json=json, **kw)

    def get(self, path: str, who: str, **kw: Any) -> httpx.Response:
        return self.client.get(path, headers=self.h(who), **kw)

    def open(self, who: str = "bot", tenant: str = "acme", agent: str = "refunds-bot") -> str:
        r = self.post(
            "/v1/sessions", who, {"agent": agent, "principal": "ticket:T-1", "tenant": tenant}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


PEOPLE: dict[str, tuple[list[Role], list[str]]] = {
    "alice": ([Role.APPROVER], ["finance"]),
    "victor": ([Role.VIEWER], []),
    "otto": ([Role.OPERATOR], []),
    "audrey": ([Role.AUDITOR], []),
}
AGENTS: dict[str, tuple[list[str], list[str]]] = {
    "bot": (["refunds-bot"], ["acme"]),
    "bot2": (["refunds-bot"], ["acme"]),
    "globex-bot": (["refunds-bot"], ["globex"]),
    "hr": (["hr-bot"], ["*"]),
}


def enroll(gw: Gateway) -> dict[str, str]:
    access = gw.queue.access
    keys = {"root": access.add("root", [Role.ADMIN], by=None)}
    root = access.authenticate("root", keys["root"])
    for name, (roles, groups) in PEOPLE.items():
        keys[name] = access.add(name, roles, groups, by=root)
    for name, (agents, tenants) in AGENTS.items():
        keys[name] = access.add(name, [Role.AGENT], by=root)
        gw.queue.grants.grant(name, agents, tenants, by=root)
    return keys


@contextmanager
def running(
    settings: GatewaySettings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    lean: bool = True,
) -> Iterator[World]:
    gw = Gateway(settings, transport=transport, worker_interval=0.2)
    keys = enroll(gw)
    app = create_app(settings, gateway=gw, lean=lean)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield World(gw, client, keys)
    finally:
        gw.close()
