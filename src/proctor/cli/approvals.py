"""``proctor approvals``: read the queue, approve and deny, as a named principal."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from proctor.approvals import ApprovalRequest, ApprovalState, Role
from proctor.cli._oversight import As, DatabaseUrl, acting, out, require
from proctor.errors import ApprovalVersionError

app = typer.Typer(help="Act on held calls: list, show, approve, deny.", no_args_is_help=True)

READERS = (Role.VIEWER, Role.APPROVER, Role.OPERATOR, Role.ADMIN)


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _as_dict(req: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": req.id,
        "state": str(req.state),
        "agent": req.agent,
        "environment": req.environment,
        "tenant": req.tenant,
        "requested_for": req.principal,
        "session_id": req.session_id,
        "call_id": req.call_id,
        "tool": req.tool,
        "args": req.args,
        "held_by": list(req.held_by),
        "needs": req.needs(),
        "missing": req.missing(),
        "excluded": list(req.excluded),
        "created_at": _when(req.created_at),
        "expires_at": _when(req.expires_at),
        "on_expiry": req.on_expiry,
        "escalated": req.escalated,
        "version": req.version,
        "original_args": req.original_args if req.edits else None,
        "edited_by": req.edit.by if req.edit is not None else None,
        "votes": [
            {
                "by": v.approver,
                "vote": v.vote,
                "groups": list(v.groups),
                "note": v.note,
                "at": _when(v.at),
            }
            for v in req.votes
        ],
        "decided_by": req.decided_by,
        "result": req.result,
        "error": req.error,
        "context": req.context,
    }


def _provenance(prov: dict[str, Any]) -> list[str]:
    """One line per kind of origin: arguments with the same provenance, basis and content."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for path, p in sorted(prov.items()):
        key = (str(p.get("provenance")), str(p.get("basis")), ", ".join(p.get("links", [])))
        groups.setdefault(key, []).append(path)
    lines = []
    for (kind, basis, links), paths in groups.items():
        named = ", ".join(paths[:4]) + (f" and {len(paths) - 4} more" if len(paths) > 4 else "")
        lines.append(f"  {named}: {kind} ({basis})" + (f" from {links}" if links else ""))
    return lines


@app.command("list")
def list_cmd(
    as_: As = None,
    state: Annotated[
        list[ApprovalState] | None,
        typer.Option("--state", help="Only requests in this state (repeatable); default pending."),
    ] = None,
    all_states: Annotated[bool, typer.Option("--all", help="Requests in every state.")] = False,
    agent: Annotated[str | None, typer.Option(help="Only this agent's requests.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List approval requests, oldest first (overdue ones are expired first).

    Needs any role: viewer, approver, operator or admin.
    """
    with acting(database_url, as_) as ctx:
        require(ctx).require(*READERS, action="read the approval queue")
        ctx.queue.requests.expire_due()
        states = None if all_states else (state or [ApprovalState.PENDING])
        found = ctx.queue.requests.find(states, agent=agent, limit=limit)
    if as_json:
        for req in found:
            typer.echo(json.dumps(_as_dict(req), sort_keys=True, default=str))
        return
    table = Table(title=f"{len(found)} approval request(s)")
    for col in ("id", "state", "agent", "tool", "held by", "needs", "expires"):
        table.add_column(col, overflow="fold")
    for req in found:
        table.add_row(
            req.id,
            str(req.state),
            req.agent,
            req.tool,
            ", ".join(req.held_by),
            req.missing() or req.needs() if req.state is ApprovalState.PENDING else "",
            _when(req.expires_at) if req.state is ApprovalState.PENDING else "",
        )
    out.print(table)


@app.command()
def show(
    approval_id: Annotated[str, typer.Argument(help="The request id (apr_...).")],
    as_: As = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print it as JSON.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Show everything a reviewer needs: the exact call, the rules that held it and why, where
    each argument came from and what the agent saw, recent actions, risk flags, the agent's
    reason and confidence, and the votes so far.

    Needs any role: viewer, approver, operator or admin.
    """
    with acting(database_url, as_) as ctx:
        require(ctx).require(*READERS, action="read the approval queue")
        req = ctx.queue.requests.get(approval_id)
    data = _as_dict(req)
    if as_json:
        typer.echo(json.dumps(data, indent=2, sort_keys=True, default=str))
        return
    c = req.context
    lines = [
        f"[bold]{req.id}[/] {req.state}: {req.tool} by agent {req.agent} for {req.principal} "
        f"({req.tenant}, {req.environment})",
        f"  arguments: {escape(json.dumps(req.args, sort_keys=True))} (version {req.version})",
        f"  needs: {req.needs()}" + (f"; still missing {req.missing()}" if req.missing() else ""),
        f"  never approved by: {', '.join(x for x in req.excluded if x)}",
        f"  created {_when(req.created_at)}, expires {_when(req.expires_at)} "
        f"(then {'escalated to ' + req.escalate_to if req.on_expiry == 'escalate' else 'denied'})",
        "  held by:",
        *(f"    [{h['rule_id']}] {escape(h['reason'])}" for h in c.get("held_by", [])),
    ]
    agent = c.get("agent", {})
    if agent.get("reason") or agent.get("confidence") is not None:
        lines.append(
            f"  agent says: {escape(str(agent.get('reason')))} "
            f"(confidence {agent.get('confidence')})"
        )
    risk = c.get("risk", {})
    lines.append(
        f"  risk: flags {', '.join(risk.get('flags', [])) or 'none'}, "
        f"autonomy {risk.get('autonomy')}"
    )
    lines += _provenance(c.get("provenance", {}))
    for saw in c.get("saw", []):
        lines.append(
            f"  saw {saw.get('content_id')} from {saw.get('source')} "
            f"[{saw.get('trust')}, {saw.get('confidentiality')}]: "
            f"{escape(str(saw.get('excerpt', '')))[:200]}"
        )
    for act in c.get("recent", []):
        lines.append(f"  earlier: {act['at']} {act['tool']} {act['verdict']} -> {act['status']}")
    if req.edit is not None:
        lines.append(f"  [bold]{escape(req.edit.summary())}[/] (version {req.version})")
    for v in req.votes:
        lines.append(
            f"  vote: {v.approver} {v.vote}s at {_when(v.at)}"
            + (f": {escape(v.note)}" if v.note else "")
        )
    if req.error:
        lines.append(f"  error: {escape(req.error)}")
    if req.result is not None:
        lines.append(f"  result: {escape(json.dumps(req.result, default=str))[:300]}")
    for line in lines:
        out.print(line)


@app.command()
def approve(
    approval_id: Annotated[str, typer.Argument(help="The request id (apr_...).")],
    as_: As = None,
    note: Annotated[str | None, typer.Option(help="Why (kept in the audit log).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Approve with edit: change one argument, NAME=VALUE (VALUE is read as JSON "
            "if it is JSON, else as a string; repeatable).",
            show_default=False,
        ),
    ] = None,
    args_file: Annotated[
        Path | None,
        typer.Option(
            "--args-file",
            help="Approve with edit: a JSON object, the whole arguments to run instead "
            "(--set applies on top of it).",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    if_version: Annotated[
        int | None,
        typer.Option(
            "--if-version",
            min=1,
            help="The version you reviewed (shown by show): refused if the request changed "
            "since. Required once the request has been edited.",
            show_default=False,
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Judge an edit against this policy file (or directory) first: a schema "
            "error or a limit refuses it here, leaving the request pending.",
            exists=True,
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Approve a request. Needs the approver role and membership of a required group; never the
    requester or the agent itself, and each person votes once. The agent's gate (or a worker)
    executes it once enough people approved.

    With --set or --args-file, approve with edit: the call runs with the edited arguments
    (never another tool), every earlier approval is reset (they approved other arguments),
    and yours counts as one approval of the edited call. The agent's gate decides the edited
    call again before it runs: a limit, a schema error or a value the session saw only in
    untrusted content refuses it (the request then ends failed, with the reason).
    """
    with acting(database_url, as_) as ctx:
        who = require(ctx)
        current = ctx.queue.requests.get(approval_id)
        args = _edited(current.args, set_ or [], args_file)
        if if_version is None and current.edits:
            # a plain approve must not count for arguments someone else swapped in after
            # the voter reviewed them: name the version reviewed (two-person rule)
            raise ApprovalVersionError(
                f"{approval_id} was edited by {current.edits[-1].editor} (now version "
                f"{current.version}): review it (proctor approvals show {approval_id}) and "
                f"approve with --if-version {current.version}; nothing was voted"
            )
        if if_version is None:
            if_version = current.version  # what was read here: refuse if it changed since
        if args is not None and policy is not None:
            from proctor.errors import PolicyError
            from proctor.gate import Gate
            from proctor.policy import load_policies

            try:
                policies = load_policies(policy)
            except PolicyError as exc:
                raise ValueError(f"--policy: {exc}") from exc
            Gate(policies, approvals=ctx.queue).close()  # attaches to the queue: a preflight
        req = ctx.queue.approve(approval_id, by=who, note=note, args=args, if_version=if_version)
    missing = req.missing()
    out.print(f"{req.id} {req.state}" + (f"; still needs {missing}" if missing else ""))
    if args is not None and req.edit is not None:
        out.print(escape(req.edit.summary()))


def _edited(
    current: Mapping[str, Any], sets: list[str], args_file: Path | None
) -> dict[str, Any] | None:
    """The edited arguments, or None when no edit was asked for. Raises ``ValueError``."""
    if not sets and args_file is None:
        return None
    args: dict[str, Any] = dict(current)
    if args_file is not None:
        try:
            loaded = json.loads(args_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"--args-file {args_file}: not a JSON file: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ValueError(f"--args-file {args_file}: expected a JSON object of arguments")
        args = loaded
    for item in sets:
        name, eq, raw = item.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"--set {item!r}: expected NAME=VALUE")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        args[name.strip()] = value
    return args


@app.command()
def deny(
    approval_id: Annotated[str, typer.Argument(help="The request id (apr_...).")],
    reason: Annotated[str, typer.Option(help="Why: shown to the agent, kept in the audit log.")],
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Deny a request: final, it never executes. Needs the approver role and membership of a
    required group."""
    with acting(database_url, as_) as ctx:
        req = ctx.queue.requests.deny(approval_id, require(ctx), reason)
    out.print(f"{req.id} {req.state}")
