"""The demo's budget scene: goodwill credits add up per customer, in the demo's SQLite store,
until the next one would pass 100 USD in 30 days: that one is held for a finance approver,
and nothing of it is reserved while it waits. Self-contained: its own agent, gate and
in-process queue; the same audit log and store as the rest of the demo."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from proctor.budgets import SqlLedger, budget_status, budget_table
from proctor.gate import Gate
from proctor.hooks import GateHooks
from proctor.model import OutcomeStatus
from proctor.policy import CompiledPolicy, load_policy_text

POLICY_FILE = "goodwill-bot.yaml"
BUDGET = "budget.goodwill"
CREDITS = (("C1001", 40.0), ("C1001", 45.0), ("C1001", 30.0), ("C1002", 30.0))


def goodwill_policy() -> CompiledPolicy:
    text = resources.files("proctor.demo").joinpath(POLICY_FILE).read_text(encoding="utf-8")
    return load_policy_text(text, f"proctor/demo/{POLICY_FILE}")


def budget_scene(console: Console, engine: Engine, hooks: Sequence[GateHooks] = ()) -> bool:
    """Run the scene; True if the budget held exactly the call that would exceed it."""
    ledger = SqlLedger(engine)
    gate = Gate(goodwill_policy(), hooks=hooks, budgets=ledger)
    credited: list[tuple[str, float]] = []

    @gate.tool("billing.credit")
    def credit(customer_id: str, amount: float) -> str:
        credited.append((customer_id, amount))
        return f"credited {amount:.2f} USD to {customer_id}"

    console.print("\n[bold]Budgets[/]: goodwill credits, at most 100 USD per customer in 30 days")
    statuses = []
    try:
        session = gate.open_session("goodwill-bot", principal="ticket:T-882", tenant="acme")
        gate.ingest(session, "C1001 and C1002 waited two weeks: credit them for it.", "user")
        for customer, amount in CREDITS:
            out = credit(session, customer_id=customer, amount=amount)
            statuses.append(out.status)
            hits = [h for st in out.decision.steps for h in st.hits if h.rule_id == BUDGET]
            why = hits[0].reason if hits else "; ".join(out.decision.reasons)
            color = "green" if out.status is OutcomeStatus.EXECUTED else "yellow"
            console.print(
                f"  credit {amount:5.2f} USD to {customer}: [{color}]{out.status}[/] "
                f"{escape(f'[{BUDGET}]')} {escape(why)}"
            )
        console.print(budget_table(budget_status(goodwill_policy().budgets, ledger), "budgets now"))
        policy = resources.files("proctor.demo").joinpath(POLICY_FILE)
        console.print(
            f"Try: PROCTOR_SQLITE_PATH={engine.url.database} "
            f"proctor budget status --policy {policy}"
        )
    finally:
        gate.close()
    held_only_the_third = statuses == [
        OutcomeStatus.EXECUTED,
        OutcomeStatus.EXECUTED,
        OutcomeStatus.PENDING,
        OutcomeStatus.EXECUTED,
    ]
    return held_only_the_third and len(credited) == 3
