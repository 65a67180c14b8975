"""A budget hold through the durable approval queue: the held call reserves nothing while it
waits; once approved it runs exactly once, past the limit the approvers saw, and counts."""

from __future__ import annotations

from proctor import Gate, OutcomeStatus, load_policy_text
from proctor.approvals import ApprovalQueue, Role
from proctor.budgets import SqlLedger

from .test_gate_budgets import POLICY, REFUNDS, U


def test_an_approved_budget_hold_runs_once_past_the_limit(sqlite_url):
    queue = ApprovalQueue.open(sqlite_url)
    ledger = SqlLedger(queue.engine)
    gate = Gate(load_policy_text(POLICY), approvals=queue, budgets=ledger)
    ran: list[float] = []

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float, note: str | None = None) -> str:
        ran.append(amount)
        return "ok"

    @gate.tool("billing.credit")
    def credit(account: str, value: float) -> str:
        return "ok"

    def used() -> int:
        from proctor.policy import Charge

        c = Charge("budget.refunds", "billing-bot/refunds", REFUNDS, 0, 1, 86400)
        return ledger.usage([c])[REFUNDS]

    try:
        s = gate.open_session("billing-bot", principal="ticket:T-9", tenant="acme")
        assert refund(s, order_id="O1", amount=80.0).status is OutcomeStatus.EXECUTED
        held = refund(s, order_id="O2", amount=50.0)
        assert held.status is OutcomeStatus.PENDING
        assert used() == 80 * U  # nothing reserved while it waits
        admin_key = queue.access.add("root", [Role.ADMIN], by=None)
        root = queue.authenticate("root", admin_key)
        key = queue.access.add("dana", [Role.APPROVER], ["finance"], by=root)
        dana = queue.authenticate("dana", key)
        req = queue.get(held.approval_id or "")
        assert [h["rule_id"] for h in req.context["held_by"]] == ["budget.refunds"]
        queue.approve(req.id, by=dana, note="Customer was charged twice.")
        res = queue.ticket(held, s).outcome(timeout=5.0)
        assert res.executed, res
        assert ran == [80.0, 50.0]
        assert used() == 130 * U  # approved past the limit: the spend still counts
        assert refund(s, order_id="O3", amount=1.0).status is OutcomeStatus.PENDING
    finally:
        gate.close()
        queue.close()
