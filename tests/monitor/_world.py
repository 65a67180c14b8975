"""A small monitored world: a policy with monitoring, a store, an audit log, an approval
queue (the kill switch and containment), a monitor on a clock the test moves, and a gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from proctor import Gate, load_policy_text
from proctor.approvals import ApprovalQueue, Principal, Role
from proctor.audit import AuditHook, AuditLog, AuditSettings
from proctor.monitor import GateMetrics, Monitor, MonitorHook
from proctor.store import StoreSettings

SEED = "6a" * 32
START = 28_401_120 * 60.0  # 2024-01-01 00:00 UTC, a Monday

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: ops}
environments:
  production: {max_autonomy: write}
tools:
  orders.get:
    autonomy: read
    args: {order_id: string}
    output: {trust: trusted}
  email.send:
    autonomy: write
    flags: [external]
    args: {to: string, body: string}
    approval: {on_flags: false}
monitoring:
  enabled: true
  warmup: 0 minutes
  alerts: {sinks: [audit, log], dedup: 10 minutes, max_per_hour: 5}
  contain: {at: critical, action: ACTION}
  rules:
    - id: email.burst
      signal: calls
      tool: email.send
      above: 5
      window: 5 minutes
      severity: critical
    - id: orders.busy
      signal: calls
      tool: orders.get
      above: 50
      severity: low
"""


def policy_text(action: str = "draft") -> str:
    return POLICY.replace("ACTION", action)


class Clock:
    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    url: str
    clock: Clock
    log: AuditLog
    queue: ApprovalQueue
    monitor: Monitor
    gate: Gate
    metrics: GateMetrics
    sent: list[str] = field(default_factory=list)
    people: dict[str, Principal] = field(default_factory=dict)

    def session(self) -> Any:
        return self.gate.open_session("support-bot", principal="ticket:T-9", tenant="acme")

    def close(self) -> None:
        self.gate.close()
        self.queue.close()
        self.log.engine.dispose()


def make_world(
    url: str,
    *,
    action: str = "draft",
    clock: Clock | None = None,
    people: bool = True,
    notifier: Any = None,
    text: str | None = None,
    hook_options: dict[str, Any] | None = None,
) -> World:
    clock = clock or Clock()
    store = StoreSettings(database_url=url)
    log = AuditLog.open(AuditSettings(store=store, signing_key=SEED))
    queue = ApprovalQueue.open(store, audit=log, clock=clock)
    pol = load_policy_text(text or policy_text(action), "support.yaml")
    monitor = Monitor.open(pol, queue, clock=clock, notifier=notifier)
    metrics = GateMetrics()
    hook = MonitorHook(monitor, metrics=metrics, auto_tick=False, **(hook_options or {}))
    gate = Gate(pol, hooks=[AuditHook(log), hook], approvals=queue)
    world = World(url, clock, log, queue, monitor, gate, metrics)

    @gate.tool("orders.get")
    def get(order_id: str) -> dict[str, str]:
        return {"order_id": order_id, "status": "shipped"}

    @gate.tool("email.send")
    def send(to: str, body: str) -> str:
        world.sent.append(to)
        return "sent"

    if people:
        root_key = queue.access.add("root", [Role.ADMIN], by=None)
        root = queue.authenticate("root", root_key)
        otto_key = queue.access.add("otto", [Role.OPERATOR], by=root)
        world.people = {"root": root, "otto": queue.authenticate("otto", otto_key)}
        world.people_keys = {"otto": otto_key}  # type: ignore[attr-defined]
    return world


def burst(world: World, n: int = 6, to: str = "someone@partner.example") -> list[Any]:
    s = world.session()
    return [world.gate.call(s, "email.send", {"to": to, "body": "hello"}) for _ in range(n)]


Tick = Callable[[], list[Any]]
