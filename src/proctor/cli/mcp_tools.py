"""``proctor mcp tools``: the downstream tools of the MCP proxy, their pins and findings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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


@tools_app.command()
def approve(
    server: Annotated[str, typer.Argument(help="The server, as the proxy names it.")],
    tool: Annotated[
        str | None, typer.Argument(help="The tool (or --all).", show_default=False)
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every tool of SERVER that is not pinned as listed.")
    ] = False,
    accept_findings: Annotated[
        bool,
        typer.Option(
            "--accept-findings",
            help="Approve even if the detectors found something in the definition (after "
            "reading `proctor mcp tools diff`); the findings are recorded with the approval.",
        ),
    ] = False,
    fingerprint: Annotated[
        str | None,
        typer.Option(
            help="The fingerprint you reviewed (8+ hex digits): refused if the tool changed since.",
            show_default=False,
        ),
    ] = None,
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Pin the definition a server lists now: the proxies list and let through the tool from
    then on. The definition is scanned again first; findings need --accept-findings. Needs
    role operator or admin; recorded with your name in the audit log."""
    if (tool is None) == (not all_):
        err.print("[red]error[/] name one TOOL, or pass --all")
        raise typer.Exit(1)
    failed = 0
    with acting(database_url, as_) as c:
        who = require(c)
        pins = ToolPins(c.queue.engine, c.queue.recorder, c.queue.access)
        if tool is not None:
            names = [tool]
        else:
            who.require(Role.OPERATOR, Role.ADMIN, action="approve tools")
            names = [p.tool for p in pins.list(server) if p.state is not PinState.PINNED]
            if not names:
                out.print(f"every tool of {escape(server)} is pinned as listed")
        for name in names:
            try:
                pin = pins.approve(
                    server, name, by=who, accept_findings=accept_findings, fingerprint=fingerprint
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
    out.print(f"listed:  {short(pin.seen_fingerprint)} since {_when(pin.changed_at)}")
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
