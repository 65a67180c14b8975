"""``proctor access``: the people who may act on approvals and agents."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from proctor.approvals import Role
from proctor.cli._oversight import As, DatabaseUrl, acting, err, out, require

app = typer.Typer(help="Manage principals: roles, approver groups, keys.", no_args_is_help=True)


@app.command()
def add(
    name: Annotated[str, typer.Argument(help="The principal's name (a person, not a team).")],
    role: Annotated[list[Role], typer.Option(help="A role (repeatable).")],
    group: Annotated[
        list[str] | None, typer.Option(help="An approver group it belongs to (repeatable).")
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option(help="Role agent: an agent it may open sessions for (repeatable)."),
    ] = None,
    tenant: Annotated[
        list[str] | None,
        typer.Option(help="Role agent: a tenant its sessions may be in (repeatable; '*': any)."),
    ] = None,
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a principal and print its key, once (it is stored only as a salted hash).

    Needs role admin; on an empty registry, without --as, adds the first admin (bootstrap).
    An agent key (role agent, for the HTTP gateway) needs --agent and --tenant.
    """
    is_agent = Role.AGENT in role
    if is_agent != bool(agent) or is_agent != bool(tenant):
        err.print("[red]error[/] --agent and --tenant go with role agent, and it needs both")
        raise typer.Exit(1)
    with acting(database_url, as_, create=True, anonymous=True) as ctx:
        if is_agent:  # checked before the key exists: a key without its grant is useless
            require(ctx).require(Role.ADMIN, action="add agent keys")
        key = ctx.queue.access.add(name, role, group or (), by=ctx.who)
        if is_agent:
            ctx.queue.grants.grant(name, agent or (), tenant or (), by=require(ctx))
    err.print(f"added {name}; its key follows, shown this once (keep it like a password):")
    typer.echo(key)


@app.command("list")
def list_cmd(as_: As = None, database_url: DatabaseUrl = None) -> None:
    """List principals, roles and groups. Needs role admin."""
    with acting(database_url, as_) as ctx:
        require(ctx).require(Role.ADMIN, action="list principals")
        people = ctx.queue.access.principals()
    table = Table(title="principals")
    for col in ("name", "roles", "groups", "enabled"):
        table.add_column(col, overflow="fold")
    for p, enabled in people:
        table.add_row(
            p.name,
            ", ".join(sorted(str(r) for r in p.roles)),
            ", ".join(sorted(p.groups)),
            "yes" if enabled else "no",
        )
    out.print(table)


@app.command()
def disable(
    name: Annotated[str, typer.Argument(help="The principal to disable.")],
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Disable a principal: its key stops working; its past votes stand. Needs role admin."""
    with acting(database_url, as_) as ctx:
        ctx.queue.access.disable(name, by=require(ctx))
    out.print(f"{name} disabled")
