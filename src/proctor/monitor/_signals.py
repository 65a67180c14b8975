"""What one decision, one ingest or one judgement adds to an agent's minute.

Destinations are host names only (the domain of an email address, the host of a URL): never
the address, never an account number (an account becomes a short keyed digest). The value a
call moves (``value_moved``) is a number only: what ``monitoring.value`` computes, or by
default the tool's amount in the policy's budgets, else its argument whose role is amount.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Iterator, Mapping

from proctor.flow._rules import _host, role_of
from proctor.model import Decision, Flag, Session, ToolCall, Verdict
from proctor.monitor._baseline import DEST, TOOL, VALUE
from proctor.policy import CompiledPolicy, ToolPlan
from proctor.policy._cel import Expression, compile_expression, execute

log = logging.getLogger("proctor.monitor")

APPROVED = "approval."  # a held call that people approved (override of a hold)
BREAK_GLASS = "breakglass."  # a held call that break-glass let through
DESTINATION_ROLES = ("recipient", "destination", "address")
MAX_HOST = 180


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


def destinations(plan: ToolPlan | None, call: ToolCall) -> set[str]:
    """The external hosts a call names in its recipient and destination arguments (and, for a
    tool flagged ``external``, in any argument that is an email address or a URL), and a
    digest for each account it names."""
    out: set[str] = set()
    if plan is None:
        return out
    external = Flag.EXTERNAL in plan.spec.flags
    for name, value in call.args.items():
        role = role_of(plan, name)
        if role == "account":
            for text in _strings(value):
                digest = hashlib.sha256(text.strip().encode()).hexdigest()[:16]
                out.add(f"account:{digest}")
            continue
        if role not in DESTINATION_ROLES and not external:
            continue
        for text in _strings(value):
            if role not in DESTINATION_ROLES and "@" not in text and "://" not in text:
                continue
            host = _host(text)
            if host and "." in host and len(host) <= MAX_HOST:
                out.add(host.removeprefix("www."))
    return out


def value_expressions(pol: CompiledPolicy) -> dict[str, Expression]:
    """What a call of each tool moves: ``monitoring.value`` if the policy sets it (``{}``:
    nothing), else the tool's amount in the first budget it spends from, else its numeric
    argument whose role (declared, or implied by its name) is ``amount``."""
    if pol.values is not None:
        return dict(pol.values)
    out: dict[str, Expression] = {}
    for tool, plan in pol.tools.items():
        budgets = pol.budgets_for(tool)
        if budgets:
            out[tool] = budgets[0].terms[tool].amount
            continue
        for name, arg in plan.spec.args.items():
            if arg.type in ("integer", "number") and role_of(plan, name) == "amount":
                source = f"args.{name}" if arg.required else f"has(args.{name}) ? args.{name} : 0"
                out[tool] = compile_expression(source, plan.spec.args.keys())
                break
    return out


def call_value(
    expressions: Mapping[str, Expression], session: Session, call: ToolCall
) -> float | None:
    """What ``call`` moves (its absolute value), or None: the tool has no expression, or it
    failed or gave something other than a finite number (logged; the call still counts)."""
    expr = expressions.get(call.tool)
    if expr is None:
        return None

    def context(name: str) -> object:
        if name == "env":
            return session.environment.value
        return call.tool if name == "tool" else getattr(session, name)

    try:
        out = execute(expr, call.args, context)
        if isinstance(out, str):
            out = float(out)
    except Exception as exc:
        log.debug("monitoring.value of %s failed: %s: %s", call.tool, type(exc).__name__, exc)
        return None
    if isinstance(out, bool) or not isinstance(out, int | float) or not math.isfinite(out):
        log.debug("monitoring.value of %s is %r, not a number", call.tool, type(out).__name__)
        return None
    return abs(float(out))


def call_signals(
    plan: ToolPlan | None, call: ToolCall, decision: Decision, value: float | None = None
) -> dict[str, float]:
    """One decided call: ``calls``, ``calls:TOOL``, a denial, hold or override, its
    destinations and the ``value`` it moves (every verdict counts: a refused attempt is
    behaviour too). The execution of an approved call is an override only: the call was
    counted when it was held."""
    rules = [h.rule_id for s in decision.steps for h in s.hits]
    if decision.verdict is Verdict.ALLOW and any(r.startswith(APPROVED) for r in rules):
        return {"overrides": 1.0}
    values: dict[str, float] = {"calls": 1.0, TOOL + call.tool: 1.0}
    if decision.verdict is Verdict.DENY:
        values["denials"] = 1.0
    elif decision.verdict is Verdict.HOLD:
        values["holds"] = 1.0
    elif any(r.startswith(BREAK_GLASS) for r in rules):
        values["overrides"] = 1.0
    for host in destinations(plan, call):
        values[DEST + host] = 1.0
    if value:
        values[VALUE] = value
    return values
