"""Reading the log back: a session's story for people, JSON lines for machines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from proctor.audit._canonical import canonical_json
from proctor.audit._events import EventKind
from proctor.audit._log import Record


def _short(masked: dict[str, Any]) -> str:
    """The first digits of a masked value's digest (keyed ``hmac-sha256:key:hex`` or sha256)."""
    digest = str(masked.get("hmac") or masked.get("sha256") or "")
    return digest.rsplit(":", 1)[-1][:12]


def _args(args: dict[str, Any]) -> str:
    if not args:
        return "no arguments"
    parts = [f"{name}=<{v.get('type')} {_short(v)}>" for name, v in args.items()]
    return ", ".join(parts)


def describe(record: Record) -> str:
    """One line saying what a record records."""
    b = record.body
    kind = record.kind
    if kind == EventKind.SESSION_OPENED:
        return (
            f"session opened: agent {b.get('agent')} acting for {b.get('principal')} "
            f"in tenant {b.get('tenant')} ({b.get('environment')})"
        )
    if kind == EventKind.CONTENT_INGESTED:
        text = b.get("text") or {}
        line = (
            f"saw {b.get('trust')} {b.get('confidentiality')} content {b.get('content_id')} "
            f"from {b.get('source')} <{text.get('length')} chars "
            f"{_short(text)}>"
        )
        if b.get("instructions"):
            line += f", {b['instructions']} instruction-like passage(s)"
        return line
    if kind == EventKind.DECISION:
        line = f"decided {b.get('tool')}({_args(b.get('args') or {})}) -> {b.get('verdict')}"
        prov = b.get("provenance") or {}
        if prov:
            line += " [" + ", ".join(f"{k} {v.get('provenance')}" for k, v in prov.items()) + "]"
        if b.get("rule_ids"):
            line += f" by {', '.join(b['rule_ids'])}"
        if b.get("reasons"):
            line += f": {'; '.join(b['reasons'])}"
        if b.get("agent_reason"):
            line += f" [agent's reason: {b['agent_reason']}]"
        return line
    if kind == EventKind.OUTCOME:
        line = f"{b.get('tool')} {b.get('status')}"
        if b.get("approval_id"):
            line += f", awaiting approval {b['approval_id']}"
        if b.get("output"):
            out = b["output"]
            line += f", output <{out.get('type')} {_short(out)}>"
        if b.get("error") and not b.get("approval_id"):
            line += f": {b['error']}"
        return line
    if kind == EventKind.APPROVAL:
        who = f" by {b['by']}" if b.get("by") else ""
        line = f"approval {b.get('approval_id')} {b.get('action')}{who}"
        if b.get("changed"):  # approve with edit: which arguments (the values are masked)
            line += f" ({', '.join(str(c) for c in b['changed'])})"
        if b.get("to"):
            line += f" -> {b['to']}"
        return line + (f": {b['note']}" if b.get("note") else "")
    if kind == EventKind.BREAK_GLASS:
        tools = ", ".join(b.get("tools") or [])
        line = f"break-glass {b.get('grant_id')} {b.get('action')} for {b.get('agent')} ({tools})"
        if b.get("by"):
            line += f" by {b['by']}"
        if b.get("expires_at") and b.get("action") == "issued":
            line += f" until {b['expires_at']}"
        return line + (f": {b['reason']}" if b.get("reason") else "")
    if kind == EventKind.AGENT_CONTROL:
        line = f"agent {b.get('agent')} {b.get('action')} by {b.get('by')}"
        return line + (f": {b['reason']}" if b.get("reason") else "")
    if kind == EventKind.ALERT:
        return f"alert {b.get('alert')}: {b.get('message')}"
    return f"{kind}: {canonical_json(b)}"


def story(records: Iterable[Record]) -> Iterator[str]:
    """The lines of a session's story, in chain order: ``#seq time what``."""
    for r in records:
        yield f"#{r.seq} {r.ts} {describe(r)}"


def export_jsonl(records: Iterable[Record], out: TextIO) -> int:
    """Write one canonical JSON object per record; return how many."""
    n = 0
    for r in records:
        out.write(r.as_json())
        out.write("\n")
        n += 1
    return n
