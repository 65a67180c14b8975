"""``proctor mcp tools``: the downstream tools of the MCP proxy, their pins and findings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from proctor.approvals import Role
from proctor.cli._oversight import As, DatabaseUrl, acting, err, out, require
from proctor.errors import ToolPinError
from proctor.pins import PinState, ToolPin, ToolPins, canonical, short

app = typer.Typer(help="The MCP proxy: its downstream tools and their pins.", no_args_is_help=True)
tools_app = typer.Typer(
    help="Without a command: list the tools every proxy has seen, per server, with their pin "
    "state (pinned, new, changed, removed), fingerprint, who approved them and the detector "
    "findings; only pinned tools are listed to clients and callable. Needs any role (not "
    "agent). The commands approve, diff and revoke pins."
)
app.add_typer(tools_app, name="tools")

READERS = (Role.VIEWER, Role.APPROVER, Role.OPERATOR, Role.ADMIN, Role.AUDITOR)


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _findings(pin: ToolPin) -> str:
    if not pin.findings:
        return "none"
    kinds = sorted({f"{f['detector']}:{f['rule']}" for f in pin.findings})
    return f"{len(pin.findings)}: " + ", ".join(kinds[:3]) + (" ..." if len(kinds) > 3 else "")


@tools_app.callback(invoke_without_command=True)
def tools(
    ctx: typer.Context,
    server: Annotated[
        str | None, typer.Option(help="Only this server's tools.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List the tools every proxy has seen, per server: pin state (pinned, new, changed,
    removed), fingerprint, who approved, detector findings. Only pinned tools are listed to
    clients and callable. Needs any role (not agent)."""
    if ctx.invoked_subcommand is not None:
        return
    with acting(database_url, as_) as c:
        require(c).require(*READERS, action="read tool pins")
        pins = ToolPins(c.queue.engine, c.queue.recorder, c.queue.access).list(server)
    if as_json:
        out.print_json(json.dumps([p.to_dict() for p in pins]))
        return
    table = Table(title="MCP tools")
    for col in ("server", "tool", "state", "fingerprint", "pinned", "approved by", "findings"):
        table.add_column(col, overflow="fold")
    for p in pins:
        pinned = "" if p.pinned_fingerprint in (None, p.seen_fingerprint) else p.pinned_fingerprint
        table.add_row(
            escape(p.server),
            escape(p.tool),
            str(p.state),
            short(p.seen_fingerprint),
            short(pinned) if pinned else "",
            escape(p.approved_by or ""),
            escape(_findings(p)),
        )
    out.print(table)


def _reviewed(path: Path, server: str) -> dict[str, str]:
    """Tool -> fingerprint, for the tools of ``server`` in a ``proctor mcp tools --json``
    listing the operator saw."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ToolPinError(f"--fingerprints-file {path}: cannot read it: {exc}") from None
    if not isinstance(rows, list):
        raise ToolPinError(
            f"--fingerprints-file {path}: not a JSON list (the output of proctor mcp tools --json)"
        )
    seen: dict[str, str] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) for k in ("server", "tool", "seen_fingerprint")
        ):
            raise ToolPinError(
                f"--fingerprints-file {path}: entry {i} has no string server, tool and "
                "seen_fingerprint (the output of proctor mcp tools --json)"
            )
        if row["server"] != server:
            continue
        if seen.setdefault(row["tool"], row["seen_fingerprint"]) != row["seen_fingerprint"]:
            raise ToolPinError(
                f"--fingerprints-file {path}: {server}/{row['tool']} is listed twice with "
                "different fingerprints"
            )
    if not seen:
        raise ToolPinError(f"--fingerprints-file {path} lists no tool of server {server!r}")
    return seen


def _usage(
    tool: str | None, fingerprint: str | None, all_: bool, fingerprints_file: Path | None
) -> str | None:
    """What is wrong with the options of ``approve`` (None: nothing)."""
    if tool is not None and (all_ or fingerprints_file is not None):
        return "name one TOOL or pass --all, not both"
    if tool is not None and fingerprint is None:
        return (
            "approve SERVER TOOL needs --fingerprint: the fingerprint of the definition you "
            "reviewed, as `proctor mcp tools diff SERVER TOOL` shows it"
        )
    if tool is None and not all_:
        return "name one TOOL (with --fingerprint), or pass --all (with --fingerprints-file)"
    if tool is None and fingerprint is not None:
        return "--fingerprint is for one TOOL; with --all, pass --fingerprints-file"
    if tool is None and fingerprints_file is None:
        return (
            "--all needs --fingerprints-file: the output of `proctor mcp tools --json` you "
            "reviewed (only the tools in it, as they were, are approved)"
        )
    return None


@tools_app.command()
def approve(
    server: Annotated[str, typer.Argument(help="The server, as the proxy names it.")],
    tool: Annotated[
        str | None, typer.Argument(help="The tool (or --all).", show_default=False)
    ] = None,
    fingerprint: Annotated[
        str | None,
        typer.Option(
            help="The fingerprint of the definition you reviewed, as `proctor mcp tools diff` "
            "shows it (16+ hex digits, or all 64): refused if the tool changed since. Required "
            "with TOOL.",
            show_default=False,
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Every tool of SERVER that is not pinned as listed and whose definition is "
            "still the one in --fingerprints-file (required with --all).",
        ),
    ] = False,
    fingerprints_file: Annotated[
        Path | None,
        typer.Option(
            help="With --all: the output of `proctor mcp tools --json` you reviewed; a tool "
            "that is not in it, or changed since, is not approved.",
            show_default=False,
        ),
    ] = None,
    accept_findings: Annotated[
        bool,
        typer.Option(
            "--accept-findings",
            help="Approve even if the detectors found something in the definition (after "
            "reading `proctor mcp tools diff`); the findings are recorded with the approval.",
        ),
    ] = False,
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Pin the definition a server lists now, if it is the one you reviewed: the proxies list
    and let through the tool from then on. The definition is scanned again first; findings
    need --accept-findings. Needs role operator or admin; recorded with your name in the audit
    log."""
    problem = _usage(tool, fingerprint, all_, fingerprints_file)
    if problem:
        err.print(f"[red]error[/] {escape(problem)}")
        raise typer.Exit(1)
    todo = {tool: fingerprint} if tool is not None and fingerprint is not None else {}
    failed = 0
    with acting(database_url, as_) as c:
        who = require(c)
        pins = ToolPins(c.queue.engine, c.queue.recorder, c.queue.access)
        if fingerprints_file is not None:
            who.require(Role.OPERATOR, Role.ADMIN, action="approve tools")
            try:
                shown = _reviewed(fingerprints_file, server)
            except ToolPinError as exc:
                err.print(f"[red]error[/] {escape(str(exc))}")
                raise typer.Exit(1) from None
            for p in pins.list(server):
                if p.state is PinState.PINNED:
                    continue
                if p.tool in shown:
                    todo[p.tool] = shown[p.tool]
                else:
                    err.print(
                        f"[red]refused[/] {escape(server)}/{escape(p.tool)} is not in "
                        f"{escape(str(fingerprints_file))}: you have not reviewed it; nothing "
                        "was approved for it"
                    )
                    failed += 1
            if not todo and not failed:
                out.print(f"every tool of {escape(server)} is pinned as listed")
        for name, reviewed in todo.items():
            try:
                pin = pins.approve(
                    server, name, by=who, fingerprint=reviewed, accept_findings=accept_findings
                )
            except ToolPinError as exc:
                err.print(f"[red]refused[/] {escape(str(exc))}")
                failed += 1
                continue
            out.print(
                f"{escape(server)}/{escape(name)} pinned at {short(pin.pinned_fingerprint)} "
                f"by {escape(pin.approved_by or '')}"
            )
    if failed:
        raise typer.Exit(1)


@tools_app.command()
def diff(
    server: Annotated[str, typer.Argument(help="The server, as the proxy names it.")],
    tool: Annotated[str, typer.Argument(help="The tool.")],
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show what changed since the tool was approved (a unified diff of the canonical JSON,
    non-ASCII characters escaped), or the whole definition of a new tool, and the findings of
    the detectors. Needs any role (not agent)."""
    with acting(database_url, as_) as c:
        require(c).require(*READERS, action="read tool pins")
        pin = ToolPins(c.queue.engine, c.queue.recorder, c.queue.access).get(server, tool)
    if pin is None:
        err.print(f"[red]error[/] no tool {escape(tool)!r} was listed by server {escape(server)!r}")
        raise typer.Exit(1)
    out.print(f"{escape(server)}/{escape(tool)}: {pin.state}", markup=False)
    out.print(f"listed:  sha256:{pin.seen_fingerprint} since {_when(pin.changed_at)}")
    approved = f" by {pin.approved_by} at {_when(pin.approved_at)}" if pin.approved_by else ""
    out.print(f"pinned:  {short(pin.pinned_fingerprint)}{approved}", markup=False)
    if pin.pinned_definition is None:
        out.print("definition (never approved):")
        pretty = json.dumps(json.loads(canonical(pin.seen_definition)), indent=2, sort_keys=True)
        out.print(pretty, markup=False)
    else:
        out.print(pin.diff() or "no change since it was approved", markup=False)
    out.print(f"findings: {len(pin.findings)}")
    for f in pin.findings:
        out.print(
            f"  {f['where']}: {f['detector']} {f['rule']} (score {f['score']}, "
            f"{f['severity']}): {f['explanation']}",
            markup=False,
        )


@tools_app.command()
def revoke(
    server: Annotated[str, typer.Argument(help="The server, as the proxy names it.")],
    tool: Annotated[str, typer.Argument(help="The tool.")],
    reason: Annotated[str, typer.Option(help="Why (audited).")],
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Drop a tool's pin: every proxy blocks it from its next call and stops listing it,
    until it is approved again. Needs role operator or admin."""
    with acting(database_url, as_) as c:
        pins = ToolPins(c.queue.engine, c.queue.recorder, c.queue.access)
        try:
            pin = pins.revoke(server, tool, by=require(c), reason=reason)
        except ToolPinError as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(1) from None
    out.print(f"{escape(server)}/{escape(tool)} is {pin.state}: blocked until approved again")
