"""The root Typer application; command groups attach here."""

from __future__ import annotations

import typer

from proctor.cli import (
    access,
    agent,
    approvals,
    audit,
    bench,
    breakglass,
    budget,
    demo,
    mcp_proxy,
    mcp_tools,
    memory,
    policy,
    receipt,
    scan,
    serve,
    vault,
)

app = typer.Typer(
    name="proctor",
    help="Proctor: decide, in code, what an AI agent may do (allow, deny, or hold for a human).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(policy.app, name="policy")
app.add_typer(bench.app, name="bench")
app.add_typer(audit.app, name="audit")
app.add_typer(vault.app, name="vault")
app.add_typer(approvals.app, name="approvals")
app.add_typer(breakglass.app, name="breakglass")
app.add_typer(agent.app, name="agent")
app.add_typer(access.app, name="access")
app.add_typer(memory.app, name="memory")
app.add_typer(mcp_tools.app, name="mcp")
app.add_typer(receipt.app, name="receipt")
app.add_typer(budget.app, name="budget")
app.command("demo")(demo.demo)
app.command("scan")(scan.scan)
app.command("serve")(serve.serve)
app.command("mcp-proxy")(mcp_proxy.mcp_proxy)


def main() -> None:
    app()
