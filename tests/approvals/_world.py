"""A small world for the approval tests: a policy, a wall clock the test moves, an audit log,
a durable queue on a real database, a gate with tools that count their side effects, and
principals with keys."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proctor import Gate, load_policy_text
from proctor.approvals import ApprovalQueue, Principal, Role
from proctor.audit import AuditHook, AuditLog, AuditSettings
from proctor.store import StoreSettings

SEED = "5e" * 32

POLICY = """
version: 1
agent:
  name: refunds-bot
  role: svc-refunds
  owner: finance-owner
environments:
  production: {max_autonomy: write}
  staging: {max_autonomy: write}
defaults:
  approval: {approvers: 1, group: finance, expires_after: 1 hour}
controls:
  on_pause: {on_pause}
  break_glass: {allowed: true, max_minutes: 30}
tools:
  orders.get:
    autonomy: read
    args: {order_id: string}
    output: {trust: trusted}
  payments.refund:
    autonomy: write
    flags: [moves_money, irreversible]
    approval: {on_flags: false, min_confidence: 0.8}
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
    output: {trust: trusted}   # the payment system's receipt
  payouts.send:
    autonomy: write
    flags: [moves_money]
    approval: {two_person: true, on_expiry: escalate, expires_after: 30 minutes}
    args:
      account: string
      amount: number
    output: {trust: trusted}
"""


def policy_text(on_pause: str = "hold", *, detectors: bool = False) -> str:
    """The world's policy; ``detectors``: the injection detectors on, holding a call whose
    arguments or session look hostile."""
    text = POLICY.replace("{on_pause}", on_pause)
    if detectors:
        on = "detectors: {enabled: true, on_hostile: hold, arguments: hold}\n"
        text = text.replace("tools:\n", on + "tools:\n", 1)
    return text


class WallClock:
    """Wall-clock seconds that move only when the test says so (from now, so that commands
    run on the real clock agree with it)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    url: str
    clock: WallClock
    log: AuditLog
    queue: ApprovalQueue
    gate: Gate
    refunds: list[tuple[str, float]] = field(default_factory=list)
    payouts: list[tuple[str, float]] = field(default_factory=list)
    people: dict[str, Principal] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def session(
        self,
        principal: str = "ticket:T-1",
        *,
        tenant: str = "acme",
        environment: str = "production",
    ) -> Any:
        return self.gate.open_session(
            "refunds-bot", principal=principal, tenant=tenant, environment=environment
        )

    def close(self) -> None:
        self.gate.close()
        self.queue.close()
        self.log.engine.dispose()


PEOPLE: dict[str, tuple[list[Role], list[str]]] = {
    "root": ([Role.ADMIN], []),
    "alice": ([Role.APPROVER], ["finance"]),
    "bob": ([Role.APPROVER], ["finance"]),
    "carol": ([Role.APPROVER], ["support"]),
    "owen": ([Role.APPROVER], ["finance-owner"]),
    "vera": ([Role.VIEWER], []),
    "otto": ([Role.OPERATOR], []),
}


def make_world(
    url: str,
    *,
    on_pause: str = "hold",
    detectors: bool = False,
    clock: WallClock | None = None,
    notifier: Any = None,
    tool_wrapper: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None,
    people: bool = True,
) -> World:
    clock = clock or WallClock()
    log = AuditLog.open(AuditSettings(store=StoreSettings(database_url=url), signing_key=SEED))
    queue = ApprovalQueue.open(url, audit=log, notifier=notifier, clock=clock)
    gate = Gate(
        load_policy_text(policy_text(on_pause, detectors=detectors), "refunds.yaml"),
        approvals=queue,
        hooks=[AuditHook(log)],
    )
    world = World(url, clock, log, queue, gate)
    wrap = tool_wrapper or (lambda f: f)

    @gate.tool("payments.refund")
    @wrap
    def refund(order_id: str, amount: float) -> str:
        world.refunds.append((order_id, amount))
        return f"refunded {amount:.2f} on {order_id}"

    @gate.tool("payouts.send")
    def payout(account: str, amount: float) -> str:
        world.payouts.append((account, amount))
        return f"paid {amount:.2f} to {account}"

    @gate.tool("orders.get")
    def get_order(order_id: str) -> dict[str, object]:
        return {"order_id": order_id, "total": 300.0, "customer": "C-1"}

    if people:
        add_people(world)
    return world


def add_people(world: World) -> None:
    access = world.queue.access
    for name, (roles, groups) in PEOPLE.items():
        admin = world.people.get("root")
        key = access.add(name, roles, groups, by=admin)
        world.keys[name] = key
        world.people[name] = access.authenticate(name, key)
