"""The gate's budget steps, kept out of ``gate.py``: usage for the decision, the atomic
reservation at enforcement, and commit or release once the outcome is known
(docs/budgets.md). Every ledger error becomes a DENY here (fail closed)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable

from proctor.budgets._ledger import BudgetLedger, Reservation
from proctor.model import Decision, RuleHit, Session, Step, StepResult, ToolCall, Verdict
from proctor.policy import Charge, CompiledPolicy, DecisionRequest, budget_charges

log = logging.getLogger("proctor.budgets")

RESERVATION_GRACE_SECONDS = 300.0
"""A reservation lives for the tool's timeout plus this: a process that crashed mid-call
stops holding budget then."""
NOTHING = Reservation("", (), 0.0)
"""What a call that spends from no budget reserves."""


class Ran:
    """Whether a call's tool ran (or may have: it timed out), set by the gate's execute step."""

    __slots__ = ("effect",)

    def __init__(self) -> None:
        self.effect = False


def _with(decision: Decision, step: StepResult) -> Decision:
    return Decision.combine(decision.tool, [*decision.steps, step], decision.policy)


async def with_usage(
    ledger: BudgetLedger, pol: CompiledPolicy, req: DecisionRequest
) -> DecisionRequest:
    """``req`` with what each budget account it spends from has spent or reserved. A ledger
    that cannot answer adds a DENY (fail closed)."""
    if not pol.budgets_for(req.tool):
        return req
    try:
        charges = budget_charges(pol, req)
        used = await asyncio.to_thread(ledger.usage, charges) if charges else {}
    except Exception as exc:
        log.warning("budget usage unavailable: %s", type(exc).__name__)
        failed = StepResult.error(Step.RATE, "budget.error", exc)
        return dataclasses.replace(req, extra_steps=(*req.extra_steps, failed), budget_usage={})
    return dataclasses.replace(req, budget_usage=used)


def _enforced(charge: Charge, decision: Decision) -> Charge:
    """The charge as it is reserved: without its limit when the decision allows a call that
    was over the budget (its hold lifted by approvers or break-glass), with it otherwise."""
    for step in decision.steps:
        for hit in step.hits:
            lifted = hit.verdict is Verdict.ALLOW and hit.seen.get("over") is True
            if hit.rule_id == charge.rule_id and lifted:
                return dataclasses.replace(charge, enforce=False)
    return charge


async def reserve(
    ledger: BudgetLedger,
    pol: CompiledPolicy,
    session: Session,
    call: ToolCall,
    decision: Decision,
    clear: Callable[[str], str] | None = None,
) -> tuple[Decision, Reservation | None]:
    """Reserve what an allowed call spends, atomically against every other caller. A budget
    a concurrent call filled meanwhile gives its verdict (hold or deny); a budget whose hold
    people lifted (approval, break-glass) is reserved without its limit. None: nothing
    reserved, and the decision says why. Any error: DENY (fail closed)."""
    budgets = {b.rule_id: b for b in pol.budgets_for(call.tool)}
    if not budgets:
        return decision, NOTHING
    try:
        req = DecisionRequest(
            tool=call.tool,
            args=call.args,
            agent=session.agent,
            environment=session.environment,
            principal=session.principal,
            tenant=session.tenant,
            session=session.id,
            budget_clear=clear,
        )
        charges = [_enforced(c, decision) for c in budget_charges(pol, req)]
        if len(charges) != len(budgets):  # evaluate denied this; never reserve a part
            raise ValueError("a budget's charge could not be computed")
        ttl = pol.tools[call.tool].spec.timeout_seconds + RESERVATION_GRACE_SECONDS
        got = await asyncio.to_thread(ledger.reserve, charges, ttl)
    except Exception as exc:
        log.warning("budget reservation failed for call %s: %s", call.id, type(exc).__name__)
        return _with(decision, StepResult.error(Step.RATE, "budget.error", exc)), None
    if isinstance(got, Reservation):
        return decision, got
    b = budgets[got.rule_id]
    hit = RuleHit(
        b.rule_id,
        b.verdict,
        f"budget {b.name} was filled by a concurrent call: this call's reservation would "
        "exceed its limit",
        {"account": got.key},
        b.approval,
    )
    return _with(decision, StepResult.ok(Step.RATE, [hit])), None


COMMIT_ATTEMPTS = 3
"""How many times a commit is tried before the failure is logged as an error."""


async def settle(ledger: BudgetLedger, spend: Reservation | None, *, ran: bool) -> None:
    """Commit the reservation of a call that ran (or may have), release that of one that did
    not. A commit that fails is retried (``COMMIT_ATTEMPTS`` in all, with a short pause), then
    logged at error level: the reservation still counts until it expires, and the spend stops
    counting after that. A release that fails is logged: it holds budget a while longer."""
    if spend is None or spend.empty:
        return
    if not ran:
        try:
            await asyncio.to_thread(ledger.release, spend)
        except Exception:
            log.exception("could not release budget reservation %s", spend.id)
        return
    for attempt in range(1, COMMIT_ATTEMPTS + 1):
        try:
            await asyncio.to_thread(ledger.commit, spend)
            return
        except Exception as exc:
            if attempt == COMMIT_ATTEMPTS:
                log.error(
                    "could not commit budget reservation %s after %d attempts (%s): its spend "
                    "counts only until the reservation expires",
                    spend.id,
                    attempt,
                    type(exc).__name__,
                )
                return
            log.warning("budget commit %s failed (%s); retrying", spend.id, type(exc).__name__)
            await asyncio.sleep(0.05 * attempt)
