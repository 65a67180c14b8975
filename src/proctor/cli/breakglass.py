"""``proctor breakglass``: time-boxed overrides, for admins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from proctor.approvals import BreakGlassGrant, Role
from proctor.cli._oversight import As, DatabaseUrl, acting, out, require
from proctor.model import Environment

app = typer.Typer(
    help="Issue, list and revoke break-glass overrides (time-boxed, audited, alerting).",
    no_args_is_help=True,
)


def _when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _scope(grant: BreakGlassGrant) -> str:
    if grant.environment is None:
        return "none (issued before overrides had a scope: covers nothing)"
    tenant = f"tenant {grant.tenant}" if grant.tenant is not None else "every tenant"
    return f"{grant.environment}, {tenant}"


@app.command()
def issue(
    agent: Annotated[str, typer.Option(help="The agent the override is for.")],
    tool: Annotated[list[str], typer.Option(help="A tool it covers (repeatable; no wildcard).")],
    environment: Annotated[
        Environment, typer.Option(help="The environment it is for (mandatory).")
    ],
    minutes: Annotated[int, typer.Option(help="How long it lasts (at most the cap).")],
    reason: Annotated[str, typer.Option(help="Why (mandatory, at least 10 characters).")],
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's sessions (default: every tenant).")
    ] = None,
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Let an agent's held calls of these tools, in one environment, run without approval,
    for a while.

    A DENY stays a DENY, a paused agent stays paused, and a hold from the flow step (a
    possible injection) still waits for a person. The override covers only the sessions in
    --environment (and --tenant, if given). It expires by itself (and the policy's
    controls.break_glass.max_minutes may end it sooner); issuing it raises an alert (an audit
    record and a notification). Needs role admin.
    """
    with acting(database_url, as_) as ctx:
        grant = ctx.queue.controls.issue_break_glass(
            agent,
            tool,
            environment=environment,
            tenant=tenant,
            minutes=minutes,
            reason=reason,
            by=require(ctx),
        )
    out.print(
        f"{grant.id}: {grant.agent} may run {', '.join(grant.tools)} without approval in "
        f"{_scope(grant)} until {_when(grant.expires_at)} (alert raised)"
    )


@app.command("list")
def list_cmd(
    as_: As = None,
    all_grants: Annotated[bool, typer.Option("--all", help="Expired and revoked too.")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """List overrides in force (or all). Needs any role."""
    with acting(database_url, as_) as ctx:
        require(ctx).require(*Role, action="read break-glass overrides")
        grants = ctx.queue.controls.grants(active=not all_grants)
    table = Table(title="break-glass overrides")
    for col in ("id", "agent", "scope", "tools", "by", "until", "revoked", "reason"):
        table.add_column(col, overflow="fold")
    for g in grants:
        revoked = f"{_when(g.revoked_at)} by {g.revoked_by}" if g.revoked_at else ""
        table.add_row(
            g.id,
            g.agent,
            _scope(g),
            ", ".join(g.tools),
            g.issued_by,
            _when(g.expires_at),
            revoked,
            g.reason,
        )
    out.print(table)


@app.command()
def revoke(
    grant_id: Annotated[str, typer.Argument(help="The override id (bg_...).")],
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """End an override now. Needs role admin."""
    with acting(database_url, as_) as ctx:
        grant = ctx.queue.controls.revoke_break_glass(grant_id, by=require(ctx))
    out.print(f"{grant.id} revoked by {grant.revoked_by}")
