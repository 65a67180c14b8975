"""``Gate.aauthorize``: the verdict for a caller that runs the tool itself (the gateway's
``decide``); shared rate counters (``Gate(rates=...)``); ``Outcome.view``."""

from __future__ import annotations

import asyncio

from proctor import OutcomeStatus, Verdict
from proctor.hooks import GateHooks
from proctor.tools import RateLimiter

POLICY = """
version: 1
agent: {name: pay-bot, role: svc-pay, owner: pay@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  payments.refund:
    autonomy: write
    args: {order_id: string, amount: number}
    rate_limit: 2/hour
    constraints:
      - {id: big, when: "args.amount > 100.0", verdict: hold}
      - {id: huge, when: "args.amount > 1000.0", verdict: deny}
  kb.search:
    autonomy: read
    args: {q: string}
"""


class Seen(GateHooks):
    def __init__(self) -> None:
        self.decisions: list[Verdict] = []
        self.outcomes: list[OutcomeStatus] = []

    async def on_decision(self, session, call, decision):
        self.decisions.append(decision.verdict)

    async def on_outcome(self, session, call, outcome):
        self.outcomes.append(outcome.status)


def test_authorize_allows_holds_and_denies_without_an_implementation(make_gate):
    seen = Seen()
    gate = make_gate(POLICY, hooks=[seen])
    s = gate.open_session("pay-bot", principal="p", tenant="t")

    async def run(amount):
        return await gate.aauthorize(s, "payments.refund", {"order_id": "O-1", "amount": amount})

    ok, held, denied = (asyncio.run(run(a)) for a in (10.0, 500.0, 5000.0))
    assert ok.status is OutcomeStatus.ALLOWED
    assert ok.result is None
    assert held.status is OutcomeStatus.PENDING
    assert held.approval_id
    assert denied.status is OutcomeStatus.DENIED
    assert seen.decisions == [Verdict.ALLOW, Verdict.HOLD, Verdict.DENY]  # every one recorded
    assert seen.outcomes == [OutcomeStatus.ALLOWED, OutcomeStatus.PENDING, OutcomeStatus.DENIED]


def test_authorize_takes_a_rate_slot(make_gate):
    gate = make_gate(POLICY)
    s = gate.open_session("pay-bot", principal="p", tenant="t")
    statuses = [
        asyncio.run(gate.aauthorize(s, "payments.refund", {"order_id": "O", "amount": 1.0})).status
        for _ in range(3)
    ]
    assert statuses == [OutcomeStatus.ALLOWED, OutcomeStatus.ALLOWED, OutcomeStatus.DENIED]


def test_authorize_never_runs_a_registered_implementation(make_gate):
    gate = make_gate(POLICY)
    ran = []

    @gate.tool("kb.search")
    def search(q: str) -> str:
        ran.append(q)
        return q

    s = gate.open_session("pay-bot", principal="p", tenant="t")
    out = asyncio.run(gate.aauthorize(s, "kb.search", {"q": "x"}))
    assert out.status is OutcomeStatus.ALLOWED
    assert ran == []


def test_a_shared_rate_counter_is_used(make_gate, clock):
    shared = RateLimiter(clock)
    one, two = make_gate(POLICY, rates=shared), make_gate(POLICY, rates=shared)
    s = one.open_session("pay-bot", principal="p", tenant="t")
    args = {"order_id": "O", "amount": 1.0}
    got = [asyncio.run(g.aauthorize(s, "payments.refund", args)).status for g in (one, two, one)]
    assert got == [OutcomeStatus.ALLOWED, OutcomeStatus.ALLOWED, OutcomeStatus.DENIED]


def test_executed_outcome_carries_the_view_the_model_may_see(make_gate):
    gate = make_gate(POLICY)

    @gate.tool("kb.search")
    def search(q: str) -> str:
        return f"results for {q}"

    s = gate.open_session("pay-bot", principal="p", tenant="t")
    out = gate.call(s, "kb.search", {"q": "mugs"})
    assert out.status is OutcomeStatus.EXECUTED
    assert out.result == "results for mugs"
    assert out.view is not None
    assert out.view.startswith("<<untrusted")
    assert "results for mugs" in out.view
