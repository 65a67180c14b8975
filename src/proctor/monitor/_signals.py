"""What one decision, one ingest or one judgement adds to an agent's minute.

Destinations are host names only (the domain of an email address, the host of a URL): never
the address, never an account number (an account becomes a short keyed digest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from proctor.flow._rules import _host, role_of
from proctor.model import Decision, Flag, ToolCall, Verdict
from proctor.monitor._baseline import DEST, TOOL
from proctor.policy import ToolPlan

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


def call_signals(plan: ToolPlan | None, call: ToolCall, decision: Decision) -> dict[str, float]:
    """One decided call: ``calls``, ``calls:TOOL``, a denial, hold or override, and its
    destinations (every verdict counts: a refused attempt is behaviour too). The execution of
    an approved call is an override only: the call was counted when it was held."""
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
    return values
