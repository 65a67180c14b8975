"""Approvals: what the kill switch costs every call, and how fast held calls go through the
durable queue, on SQLite and PostgreSQL.

Run with ``make bench``. Prints figures; asserts nothing (timings depend on the machine).

- "decide": ``gate.decide`` on an allowed call with the in-memory queue (no store read) and
  with ``ApprovalQueue`` (one read of the agent's kill switch per call, no cache, so that a
  pause reaches every process at once). p50 and p99 per call.
- "hold": ``gate.call`` on a call that holds: decide, write the request with its reviewer
  context and its outbox record, relay it to the audit log. Requests per second.
- "approve+execute": one approver's vote (which approves it), then the claim, the re-decision,
  the tool and the result, all through the store, relayed to the audit log. Per second.
PostgreSQL runs in a scratch schema of ``PROCTOR_TEST_POSTGRES_URL`` (default: the local
``test`` database), dropped afterwards.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from proctor import Gate, load_policy_text
from proctor.approvals import ApprovalQueue, Role
from proctor.audit import AuditHook, AuditLog, AuditSettings
from proctor.store import StoreSettings
from proctor.store.testing import fresh_schema, postgres_unreachable

SEED = "be" * 32
POLICY = """
version: 1
agent: {name: refunds-bot, role: svc-refunds, owner: finance-leads}
environments: {production: {max_autonomy: write}}
defaults: {approval: {approvers: 1, group: finance}}
tools:
  payments.refund:
    autonomy: write
    flags: [moves_money]
    approval: {on_flags: false}
    args: {order_id: string, amount: number}
    constraints:
      - {id: refund.over-100, when: args.amount > 100.0, verdict: hold, reason: Over 100.}
    output: {trust: trusted}
"""
DECIDES = 5000
HOLDS = 300


def build(store: StoreSettings | None) -> tuple[Gate, ApprovalQueue | None, AuditLog | None]:
    policy = load_policy_text(POLICY, "bench.yaml")
    if store is None:
        gate = Gate(policy)
        queue, log = None, None
    else:
        log = AuditLog.open(AuditSettings(store=store, signing_key=SEED))
        queue = ApprovalQueue.open(store, audit=log)
        gate = Gate(policy, approvals=queue, hooks=[AuditHook(log)])

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float) -> str:
        return f"refunded {amount} on {order_id}"

    return gate, queue, log


def decide_latency(store: StoreSettings | None) -> tuple[float, float]:
    gate, queue, log = build(store)
    session = gate.open_session("refunds-bot", principal="ticket:1", tenant="acme")
    args = {"order_id": "O-1", "amount": 20.0}
    for _ in range(200):
        gate.decide(session, "payments.refund", args)
    times = []
    for _ in range(DECIDES):
        start = time.perf_counter()
        gate.decide(session, "payments.refund", args)
        times.append(time.perf_counter() - start)
    close(gate, queue, log)
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6


def close(gate: Gate, queue: ApprovalQueue | None, log: AuditLog | None) -> None:
    gate.close()
    if queue is not None:
        queue.close()
    if log is not None:
        log.engine.dispose()


def queue_throughput(store: StoreSettings) -> tuple[float, float]:
    gate, queue, log = build(store)
    assert queue is not None
    root = queue.authenticate("root", queue.access.add("root", [Role.ADMIN], by=None))
    alice = queue.authenticate(
        "alice", queue.access.add("alice", [Role.APPROVER], ["finance"], by=root)
    )
    session = gate.open_session("refunds-bot", principal="ticket:1", tenant="acme")
    start = time.perf_counter()
    ids = [
        gate.call(session, "payments.refund", {"order_id": f"O-{i}", "amount": 250.0}).approval_id
        for i in range(HOLDS)
    ]
    holds = HOLDS / (time.perf_counter() - start)
    worker = queue.worker()
    assert worker is not None
    start = time.perf_counter()
    for rid in ids:
        queue.approve(str(rid), by=alice)
        worker.execute(str(rid))
    executed = HOLDS / (time.perf_counter() - start)
    close(gate, queue, log)
    return holds, executed


def report(name: str, store: StoreSettings) -> None:
    p50, p99 = decide_latency(store)
    print(f"  {name:10s} decide with the kill switch read: p50 {p50:7.1f} µs, p99 {p99:7.1f} µs")
    holds, executed = queue_throughput(store)
    print(f"  {name:10s} hold -> request: {holds:7.0f}/s; approve + execute: {executed:7.0f}/s")


def main() -> int:
    print("Approvals (2-core machine shared with other work; figures, not targets)")
    p50, p99 = decide_latency(None)
    print(f"  in-memory  decide, no store read:            p50 {p50:7.1f} µs, p99 {p99:7.1f} µs")
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", StoreSettings(sqlite_path=Path(tmp) / "bench.db"))
    reason = postgres_unreachable()
    if reason is not None:
        print(f"  PostgreSQL skipped: {reason}")
        return 0
    with fresh_schema(prefix="proctor_bench") as url:
        report("PostgreSQL", StoreSettings(database_url=url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
