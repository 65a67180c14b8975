"""Child processes for the race tests (spawned: each opens its own ledger or gate)."""

from __future__ import annotations

import os
from typing import Any

from proctor.budgets import Reservation

from .conftest import charge, open_ledger

POLICY = """
version: 1
agent: {name: refunds-bot, role: svc, owner: finance}
environments: {production: {max_autonomy: write}}
tools:
  payments.refund:
    autonomy: write
    args: {order_id: string, amount: number}
budgets:
  refunds:
    limit: 1000
    unit: USD
    window: 1 day
    tools: {payments.refund: args.amount}
    on_exceed: deny
"""


def spend(
    kind: str, url: str, amount: float, attempts: int, ready: Any, start: Any, out: Any
) -> None:
    """Reserve ``amount`` from one account ``attempts`` times, committing each success."""
    ledger = open_ledger(kind, url, None)
    ready.release()
    start.wait(120)
    won = 0
    for _ in range(attempts):
        got = ledger.reserve([charge(amount, limit=1000)], ttl=60)
        if isinstance(got, Reservation):
            ledger.commit(got)
            won += 1
    out.put(won)


def refund(
    url: str, effects: str, amount: float, attempts: int, ready: Any, start: Any, out: Any
) -> None:
    """A gateway process: a gate on the shared SQL ledger, refunding ``amount`` at a time."""
    from proctor import Gate, load_policy_text
    from proctor.budgets import SqlLedger
    from proctor.store import create_store_engine, migrate

    engine = create_store_engine(url)
    migrate(engine)
    gate = Gate(load_policy_text(POLICY), budgets=SqlLedger(engine))

    @gate.tool("payments.refund")
    def do_refund(order_id: str, amount: float) -> str:
        fd = os.open(effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{os.getpid()} {order_id} {amount}\n".encode())
        finally:
            os.close(fd)
        return "ok"

    session = gate.open_session("refunds-bot", principal="p", tenant="acme")
    ready.release()
    start.wait(120)
    won = 0
    for i in range(attempts):
        outcome = do_refund(session, order_id=f"O-{os.getpid()}-{i}", amount=amount)
        won += outcome.status.value == "executed"
    gate.close()
    engine.dispose()
    out.put(won)
