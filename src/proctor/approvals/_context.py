"""What a reviewer needs to judge a held call, gathered when the call is held.

The exact call; the rules that held it and why, with the values they saw; where each argument
came from (the flow step's provenance) and the content it came from, with its labels and an
excerpt of what the model saw; the session's recent actions; the tool's risk flags; the agent's
own reason and confidence. ``SessionMemory`` keeps the per-session part, bounded.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from proctor.flow import Labeled, role_of
from proctor.model import Decision, Flag, Outcome, Session, Step, ToolCall, Verdict
from proctor.policy import ToolPlan

EXCERPT = 600  # characters of each content shown to the reviewer


class SessionMemory:
    """Per session: the last ``actions`` outcomes and ``contents`` ingests; at most
    ``sessions`` sessions (least recently used dropped)."""

    def __init__(
        self,
        sessions: int = 10_000,
        actions: int = 20,
        contents: int = 50,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._stamp: tuple[int, str] = (-1, "")  # (second, its text): one strftime a second
        self._lock = threading.Lock()
        self._max = sessions
        self._actions_per = actions
        self._contents_per = contents
        self._actions: OrderedDict[str, deque[dict[str, Any]]] = OrderedDict()
        self._contents: OrderedDict[str, OrderedDict[str, dict[str, Any]]] = OrderedDict()

    def _touch(self, table: OrderedDict[str, Any], key: str, make: Any) -> Any:
        item = table.get(key)
        if item is None:
            item = table[key] = make()
            while len(table) > self._max:
                table.popitem(last=False)
        table.move_to_end(key)
        return item

    def saw(self, session: Session, content: Labeled) -> None:
        entry = {
            "content_id": content.id,
            "source": content.source,
            "trust": str(content.label.trust),
            "confidentiality": str(content.label.confidentiality),
            "tenant": content.label.tenant,
            "instructions": list(content.instructions[:3]),
            "excerpt": _excerpt(content.text),
            "length": len(content.text),
        }
        with self._lock:
            items = self._touch(self._contents, session.id, OrderedDict)
            items[content.id] = entry
            while len(items) > self._contents_per:
                items.popitem(last=False)

    def _at(self) -> str:
        """The clock's time to the second, as text (formatted once per second)."""
        second = int(self._clock())
        stamp = self._stamp
        if stamp[0] != second:
            text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            self._stamp = stamp = (second, text)
        return stamp[1]

    def did(self, session: Session, call: ToolCall, outcome: Outcome) -> None:
        entry = {
            "at": self._at(),
            "call_id": call.id,
            "tool": call.tool,
            "verdict": str(outcome.decision.verdict),
            "status": str(outcome.status),
            "rule_ids": list(outcome.decision.rule_ids)[:5],
        }
        with self._lock:
            items = self._touch(self._actions, session.id, lambda: deque(maxlen=self._actions_per))
            items.append(entry)

    def recent(self, session: Session) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._actions.get(session.id, ()))

    def content(self, session: Session, content_id: str) -> dict[str, Any] | None:
        with self._lock:
            items = self._contents.get(session.id)
            return None if items is None else items.get(content_id)


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"... [{len(text) - EXCERPT} more]"


def provenance(decision: Decision) -> dict[str, dict[str, Any]]:
    """Per argument path: provenance, basis, and the content links it matched (flow step)."""
    out: dict[str, dict[str, Any]] = {}
    for step in decision.steps:
        if step.step is not Step.FLOW:
            continue
        for hit in step.hits:
            for path, seen in hit.seen.items():
                if isinstance(seen, Mapping) and "provenance" in seen and path not in out:
                    links = seen.get("links") or []
                    out[path] = {
                        "provenance": str(seen["provenance"]),
                        "basis": seen.get("basis"),
                        "links": [str(x) for x in links] if isinstance(links, list) else [],
                    }
                    if seen.get("instructions"):
                        out[path]["instructions"] = str(seen["instructions"])
    return out


def risk(plan: ToolPlan | None) -> dict[str, Any]:
    """The tool's risk, from the policy: flags, autonomy, and which arguments move money or
    name a destination."""
    if plan is None:
        return {"flags": [], "autonomy": None}
    flags = set(plan.spec.flags)
    roles = {name: role_of(plan, name) for name in plan.spec.args}
    return {
        "flags": sorted(str(f) for f in flags),
        "autonomy": str(plan.autonomy),
        "moves_money": Flag.MOVES_MONEY in flags,
        "customer_visible": Flag.CUSTOMER_VISIBLE in flags,
        "irreversible": Flag.IRREVERSIBLE in flags,
        "external": Flag.EXTERNAL in flags,
        "argument_roles": {k: r for k, r in roles.items() if r != "content"},
    }


def build_context(
    session: Session,
    call: ToolCall,
    decision: Decision,
    plan: ToolPlan | None,
    memory: SessionMemory,
) -> dict[str, Any]:
    """Everything a reviewer sees about one held call."""
    prov = provenance(decision)
    saw: dict[str, dict[str, Any]] = {}
    for p in prov.values():
        for link in p["links"]:
            cid, _, field = link.partition("#")
            entry = saw.get(cid)
            if entry is None:
                known = memory.content(session, cid)
                entry = dict(known) if known is not None else {"content_id": cid}
                entry["fields"] = []
                saw[cid] = entry
            if field and field not in entry["fields"]:
                entry["fields"].append(field)
    return {
        "held_by": [
            {"rule_id": h.rule_id, "reason": h.reason, "seen": dict(h.seen)}
            for h in decision.hits
            if h.verdict is Verdict.HOLD
        ],
        "policy": decision.policy,
        "steps": [
            {"step": str(s.step), "verdict": str(s.verdict), "status": str(s.status)}
            for s in decision.steps
        ],
        "provenance": prov,
        "saw": list(saw.values()),
        "recent": memory.recent(session),
        "risk": risk(plan),
        "agent": {"reason": call.reason, "confidence": call.confidence},
    }
