"""The gate and budgets: usage at decision, reserve at enforcement, commit when the tool ran,
release when it did not; every budget decision named in the Decision (``budget.NAME``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor import (
    Gate,
    GateHooks,
    Outcome,
    OutcomeStatus,
    RuleHit,
    ToolCall,
    Verdict,
    load_policy_text,
)
from proctor.budgets import MemoryLedger, Reservation
from proctor.errors import BudgetError, ToolNotStartedError
from proctor.policy import Charge
from proctor.policy._budget import account_key

U = 1_000_000
POLICY = """
version: 1
agent: {name: billing-bot, role: svc-billing, owner: finance}
environments: {production: {max_autonomy: write}}
tools:
  payments.refund:
    autonomy: write
    args:
      order_id: string
      amount: number
      note: {type: string, required: false}
    timeout_seconds: 0.05
  billing.credit:
    autonomy: write
    args: {account: string, value: number}
    constraints:
      - {id: credit.big, when: "args.value > 30.0", verdict: hold}
budgets:
  refunds:
    limit: 100
    unit: USD
    window: 1 day
    tools:
      payments.refund: args.amount
      billing.credit: args.value
    on_exceed: hold
    reason: Past the daily budget, finance decides.
  per-account:
    limit: 50
    window: 30 days
    scope: key
    tools:
      billing.credit: {amount: args.value, key: args.account}
    on_exceed: deny
"""
REFUNDS = "billing-bot/refunds|agent"


class World:
    def __init__(self, *, ledger=None, hooks: Sequence[GateHooks] = (), policy: str = POLICY):
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.gate = Gate(load_policy_text(policy), budgets=self.ledger, hooks=hooks)
        self.ran: list[tuple[str, float]] = []
        self.fail = False
        self.hang = False
        self.not_started = False

        @self.gate.tool("payments.refund")
        async def refund(order_id: str, amount: float, note: str | None = None) -> str:
            if self.hang:
                await asyncio.sleep(30)
            if self.not_started:
                raise ToolNotStartedError("payments API unreachable: nothing sent")
            self.ran.append((order_id, amount))  # the money moved ...
            if self.fail:
                raise RuntimeError("HTTP 502 from upstream proxy")  # ... the answer was lost
            return "ok"

        @self.gate.tool("billing.credit")
        def credit(account: str, value: float) -> str:
            self.ran.append((account, value))
            return "ok"

        self.session = self.gate.open_session("billing-bot", principal="t:1", tenant="acme")

    def refund(self, amount: object, **extra: object) -> Outcome:
        return self.gate.call(
            self.session, "payments.refund", {"order_id": "O1", "amount": amount, **extra}
        )

    def used(self, key: str = REFUNDS) -> int:
        c = Charge("budget.refunds", key.split("|")[0], key, 0, 1, 86400 * 30)
        return self.ledger.usage([c])[key]


@pytest.fixture
def world():
    w = World()
    yield w
    w.gate.close()


def test_spends_add_up_and_the_call_that_would_exceed_holds_reserving_nothing(world):
    assert world.refund(60.0).status is OutcomeStatus.EXECUTED
    ok = world.refund(40.0)
    assert ok.status is OutcomeStatus.EXECUTED
    assert "budget.refunds" in [h.rule_id for s in ok.decision.steps for h in s.hits]
    held = world.refund(0.01)
    assert held.status is OutcomeStatus.PENDING
    assert held.decision.rule_ids == ("budget.refunds",)
    (reason,) = held.decision.reasons
    assert "budget refunds would be exceeded" in reason
    assert "limit 100 USD" in reason
    assert "finance decides" in reason
    assert held.decision.approval is not None
    assert held.decision.approval.groups == ("finance",)
    assert world.used() == 100 * U  # the held call holds nothing
    assert world.ran == [("O1", 60.0), ("O1", 40.0)]


def test_a_key_budget_denies_per_key_and_both_budgets_are_charged(world):
    credit = world.gate.call
    s = world.session
    assert (
        credit(s, "billing.credit", {"account": "A", "value": 30.0}).status
        is OutcomeStatus.EXECUTED
    )
    denied = credit(s, "billing.credit", {"account": "A", "value": 25.0})
    assert denied.decision.verdict is Verdict.DENY
    assert denied.decision.rule_ids == ("budget.per-account",)
    assert (
        credit(s, "billing.credit", {"account": "B", "value": 25.0}).status
        is OutcomeStatus.EXECUTED
    )
    assert world.used() == 55 * U
    assert (
        world.used("billing-bot/per-account|tenant:acme|key:" + account_key("A", "acme")) == 30 * U
    )


def test_a_tool_that_pays_then_raises_keeps_its_spend(world):
    """review H1: the refund went out, then the tool raised; its budget stays spent."""
    world.fail = True
    out = world.refund(90.0)
    assert out.status is OutcomeStatus.FAILED
    assert world.used() == 90 * U
    out = world.refund(90.0)
    assert out.status is OutcomeStatus.PENDING  # 180 > 100: held; the second refund never ran
    assert sum(a for _, a in world.ran) == 90


def test_a_tool_that_never_started_releases_its_reservation(world):
    world.not_started = True
    out = world.refund(90.0)
    assert out.status is OutcomeStatus.FAILED
    assert world.used() == 0
    world.not_started = False
    assert world.refund(90.0).status is OutcomeStatus.EXECUTED
    assert world.used() == 90 * U


def test_a_tool_that_timed_out_keeps_its_spend(world):
    """Its effect is unknown (it may have refunded): counting it is the fail-closed side."""
    world.hang = True
    out = world.refund(90.0)
    assert out.status is OutcomeStatus.FAILED
    assert "timed out" in (out.error or "")
    assert world.used() == 90 * U


@pytest.mark.parametrize(
    ("amount_expr", "args", "why"),
    [
        ("args.amount", {"amount": -5.0}, "negative amounts are refused"),
        ("args.order_id", {"amount": 5.0}, "expected a number"),
        ("args.amount > 1.0", {"amount": 5.0}, "bool True, expected a number"),
        ("args.note.size()", {"amount": 5.0}, "could not be computed"),  # note absent: error
        ("args.amount / 0.0", {"amount": 5.0}, "expected a finite number"),
        ("args.amount * 1e300 * 1e300", {"amount": 5.0}, "finite"),
    ],
)
def test_an_amount_that_errors_or_is_not_a_non_negative_number_denies(amount_expr, args, why):
    w = World(
        policy=POLICY.replace("payments.refund: args.amount", f"payments.refund: {amount_expr}")
    )
    try:
        out = (
            w.refund(**args)
            if False
            else w.gate.call(w.session, "payments.refund", {"order_id": "O1", **args})
        )
        assert out.status is OutcomeStatus.DENIED
        assert out.decision.rule_ids == ("budget.refunds",)
        assert why in out.decision.reasons[0]
        assert w.ran == []
        assert w.used() == 0
    finally:
        w.gate.close()


def test_negative_amounts_cannot_refill_a_budget(world):
    assert world.refund(100.0).status is OutcomeStatus.EXECUTED
    assert world.refund(-100.0).decision.verdict is Verdict.DENY
    assert world.used() == 100 * U
    assert world.refund(1.0).status is OutcomeStatus.PENDING


def test_authorize_counts_the_spend_at_once(world):
    """The caller runs the tool itself (the HTTP gateway's decide): no outcome comes back."""
    out = asyncio.run(
        world.gate.aauthorize(world.session, "payments.refund", {"order_id": "O", "amount": 70.0})
    )
    assert out.status is OutcomeStatus.ALLOWED
    assert world.used() == 70 * U
    again = asyncio.run(
        world.gate.aauthorize(world.session, "payments.refund", {"order_id": "O", "amount": 70.0})
    )
    assert again.status is OutcomeStatus.PENDING
    assert world.used() == 70 * U


class FailingRecord(GateHooks):
    async def on_decision(self, session, call, decision) -> None:
        raise OSError("audit store down")


def test_a_decision_that_cannot_be_recorded_releases_its_budget():
    w = World(hooks=[FailingRecord()])
    try:
        out = w.refund(50.0)
        assert out.status is OutcomeStatus.DENIED
        assert "record.error" in out.decision.rule_ids
        assert w.used() == 0
        assert w.ran == []
    finally:
        w.gate.close()


class StaleLedger(MemoryLedger):
    """Reads nothing spent (another process spent it after this one looked)."""

    def usage(self, charges):
        return {c.key: 0 for c in charges}


def test_a_budget_filled_by_a_concurrent_call_is_caught_at_reservation():
    w = World(ledger=StaleLedger())
    try:
        got = w.ledger.reserve(
            [Charge("budget.refunds", "billing-bot/refunds", REFUNDS, 95 * U, 100 * U, 86400)], 60
        )
        assert isinstance(got, Reservation)
        out = w.refund(10.0)  # decided on stale usage: allowed; the reservation refuses it
        assert out.status is OutcomeStatus.PENDING
        assert "filled by a concurrent call" in out.decision.reasons[0]
        assert w.ran == []
        denied = w.gate.call(w.session, "billing.credit", {"account": "A", "value": 10.0})
        assert denied.decision.verdict is not Verdict.ALLOW
        assert w.ran == []
    finally:
        w.gate.close()


class BrokenLedger(MemoryLedger):
    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where

    def usage(self, charges):
        if self.where == "usage":
            raise BudgetError("cannot read budgets: store down")
        return super().usage(charges)

    def reserve(self, charges, ttl):
        if self.where == "reserve":
            raise BudgetError("cannot reserve budget: store down")
        return super().reserve(charges, ttl)


@pytest.mark.parametrize("where", ["usage", "reserve"])
def test_a_ledger_error_denies(where):
    w = World(ledger=BrokenLedger(where))
    try:
        out = w.refund(1.0)
        assert out.status is OutcomeStatus.DENIED
        assert "budget.error" in out.decision.rule_ids
        assert "store down" in out.decision.reasons[0]
        assert w.ran == []
    finally:
        w.gate.close()


APPROVED = RuleHit("approval.apr_1", Verdict.ALLOW, "approved by dana")


def test_an_approved_budget_hold_reserves_past_the_limit_and_counts(world):
    world.refund(90.0)
    held = world.refund(30.0)
    assert held.status is OutcomeStatus.PENDING  # nothing reserved while it waits
    assert world.used() == 90 * U
    call = ToolCall("payments.refund", {"order_id": "O1", "amount": 30.0}, world.session.id)
    out = world.gate.execute_approved(world.session, call, APPROVED, ["budget.refunds"])
    assert out.status is OutcomeStatus.EXECUTED
    assert world.used() == 120 * U  # the approvers lifted the limit; the spend still counts
    assert world.refund(1.0).status is OutcomeStatus.PENDING


def test_an_approved_call_whose_budget_filled_meanwhile_is_refused(world):
    held = world.gate.call(world.session, "billing.credit", {"account": "A", "value": 40.0})
    assert held.decision.rule_ids == ("credit.big",)  # held for its size, within budget
    assert world.refund(70.0).status is OutcomeStatus.EXECUTED  # the budget fills meanwhile
    call = ToolCall("billing.credit", {"account": "A", "value": 40.0}, world.session.id)
    out = world.gate.execute_approved(world.session, call, APPROVED, ["credit.big"])
    assert out.status is OutcomeStatus.DENIED
    assert "budget.refunds" in (out.error or "")
    assert "approval did not cover" in (out.error or "")
    assert world.used() == 70 * U
    assert ("A", 40.0) not in world.ran


RATED = POLICY.replace(
    "    timeout_seconds: 0.05\n", "    timeout_seconds: 0.05\n    rate_limit: 1/hour\n"
)


def test_a_budget_refusal_at_reservation_gives_the_rate_slot_back():
    w = World(ledger=StaleLedger(), policy=RATED)
    try:
        w.ledger.reserve(
            [Charge("budget.refunds", "billing-bot/refunds", REFUNDS, 95 * U, 100 * U, 86400)], 60
        )
        assert w.refund(10.0).status is OutcomeStatus.PENDING  # refused at reservation
        assert w.refund(5.0).status is OutcomeStatus.EXECUTED  # the one slot was given back
    finally:
        w.gate.close()


def test_without_usage_budgets_are_skipped_not_allowed_silently():
    from proctor import DecisionRequest, Environment, evaluate

    pol = load_policy_text(POLICY)
    req = DecisionRequest(
        "payments.refund", {"order_id": "O", "amount": 1.0}, "billing-bot", Environment.PRODUCTION
    )
    d = evaluate(pol, req)
    assert any(s.note.startswith("no budget usage supplied") for s in d.steps)


@settings(max_examples=30, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.5, 10.0, 25.0, 50.0, 99.99, 100.0, 150.0]), st.booleans()
        ),
        max_size=12,
    )
)
def test_random_calls_through_the_gate_match_the_budget_model(calls):
    """What the gate executes, holds and charges equals the plain arithmetic of the budget. A
    call whose tool raised after it started spends (its effect is unknown); one not called (its
    circuit opened after 5 failures) spends nothing."""
    w = World()
    spent = 0.0
    try:
        for amount, fails in calls:
            w.fail = fails
            out = w.refund(amount)
            if spent + amount > 100.0:
                assert out.status is OutcomeStatus.PENDING
            elif out.status is OutcomeStatus.FALLBACK:  # circuit open: never called
                assert fails
            elif fails:  # raised after it started: spent
                assert out.status is OutcomeStatus.FAILED
                spent += amount
            else:
                assert out.status is OutcomeStatus.EXECUTED
                spent += amount
            assert w.used() == round(spent * U)
        assert sum(a for _, a in w.ran) == spent <= 100.0
    finally:
        w.gate.close()


class BreakGlass(GateHooks):
    async def waive(self, session, call, decision):
        return RuleHit("breakglass.bg_1", Verdict.ALLOW, "break-glass by otto (incident 7)")


def test_break_glass_lifts_a_budget_hold_and_the_spend_still_counts():
    w = World(hooks=[BreakGlass()])
    try:
        assert w.refund(90.0).status is OutcomeStatus.EXECUTED
        out = w.refund(30.0)
        assert out.status is OutcomeStatus.EXECUTED
        assert "breakglass.bg_1" in out.decision.rule_ids
        assert w.used() == 120 * U
    finally:
        w.gate.close()


class _FlakyCommits(MemoryLedger):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.attempts = 0

    def commit(self, reservation):  # type: ignore[no-untyped-def]
        self.attempts += 1
        if self.attempts <= self.failures:
            raise BudgetError("store down")
        super().commit(reservation)


def test_a_commit_that_fails_once_is_retried_and_counts():
    world = World(ledger=_FlakyCommits(failures=2))
    assert world.refund(60.0).status is OutcomeStatus.EXECUTED
    assert world.ledger.attempts == 3
    assert world.refund(60.0).status is OutcomeStatus.PENDING  # the first spend counted


def test_a_commit_that_keeps_failing_is_logged_as_an_error(caplog):
    world = World(ledger=_FlakyCommits(failures=99))
    with caplog.at_level("ERROR", logger="proctor.budgets"):
        assert world.refund(60.0).status is OutcomeStatus.EXECUTED
    assert world.ledger.attempts == 3
    assert any(
        r.levelname == "ERROR" and "could not commit budget reservation" in r.getMessage()
        for r in caplog.records
    )
