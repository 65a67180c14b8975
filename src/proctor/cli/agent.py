"""``proctor agent``: the kill switch, and the monitor's containment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from proctor.approvals import Role
from proctor.cli._oversight import As, DatabaseUrl, acting, out, require

app = typer.Typer(help="Pause and resume agents (the kill switch).", no_args_is_help=True)


@app.command()
def pause(
    agent: Annotated[str, typer.Argument(help="The agent, as its policy names it.")],
    reason: Annotated[str, typer.Option(help="Why (at least 10 characters; audited).")],
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Pause an agent: from its next call on, in every process sharing the store, every call
    is held (or denied, if its policy says `controls.on_pause: deny`). Its approved requests
    that have not started executing are voided (cancelled, audited): they never run, even
    after a resume; until then its requests can be denied, not approved. Needs role operator
    or admin."""
    with acting(database_url, as_) as ctx:
        state = ctx.queue.controls.pause(agent, by=require(ctx), reason=reason)
    out.print(f"{state.agent} paused by {state.by}")
    if state.voided:
        out.print(
            f"voided {len(state.voided)} approved request(s) that had not run: "
            + ", ".join(state.voided)
        )


@app.command()
def resume(
    agent: Annotated[str, typer.Argument(help="The agent.")],
    as_: As = None,
    reason: Annotated[str | None, typer.Option(help="Why (audited).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Resume a paused or contained agent (lifts the monitor's containment too). Needs role
    operator or admin."""
    with acting(database_url, as_) as ctx:
        state = ctx.queue.controls.resume(agent, by=require(ctx), reason=reason)
    out.print(f"{state.agent} resumed by {state.by}")


@app.command()
def status(
    as_: As = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Show every agent that was ever paused or contained (by the monitor: draft-only or
    read-only), and whether it is now. Needs any role."""
    with acting(database_url, as_) as ctx:
        require(ctx).require(*Role, action="read agent controls")
        switches = ctx.queue.controls.switches()
    table = Table(title="kill switches")
    for col in ("agent", "state", "by", "since", "reason"):
        table.add_column(col, overflow="fold")
    for s in switches:
        since = datetime.fromtimestamp(s.at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        state = "paused" if s.paused else "running"
        if s.max_autonomy is not None:
            state += f", contained: {s.max_autonomy}"
        table.add_row(s.agent, state, s.by, since, s.reason)
    out.print(table)
