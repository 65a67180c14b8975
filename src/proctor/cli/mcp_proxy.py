"""``proctor mcp-proxy``: the gate in front of MCP servers (docs/mcp.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proctor.errors import PolicyError, ProctorError

err = Console(stderr=True, highlight=False, soft_wrap=True)


def mcp_proxy(
    policy: Annotated[
        Path, typer.Option("--policy", help="The policy file of the agent.", exists=True)
    ],
    command: Annotated[
        list[str] | None,
        typer.Argument(help="The downstream server's command, after --.", show_default=False),
    ] = None,
    server: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=COMMAND or NAME=URL: several downstream servers behind one endpoint, "
            "tools named NAME.TOOL in the policy (repeatable).",
            show_default=False,
        ),
    ] = None,
    tenant: Annotated[str, typer.Option(help="The tenant the sessions are in.")] = "default",
    principal: Annotated[str, typer.Option(help="Whom the client acts for.")] = "mcp-client",
    environment: Annotated[str, typer.Option(help="dev, staging or production.")] = "production",
    http: Annotated[
        str | None,
        typer.Option(
            help="Serve streamable HTTP on HOST:PORT instead of stdio.", show_default=False
        ),
    ] = None,
    name: Annotated[
        str,
        typer.Option(
            help="The name of the one downstream server (after --) in the tool pin store "
            "(proctor mcp tools): give each server its own.",
        ),
    ] = "default",
    pins: Annotated[
        str,
        typer.Option(
            help="enforce: a downstream tool is listed and callable only once an operator "
            "approved its definition (proctor mcp tools approve). tofu: a new tool without "
            "detector findings is pinned as first seen. Either way a changed definition is "
            "blocked until approved again.",
        ),
    ] = "enforce",
) -> None:
    """Put the gate in front of an MCP server: proctor mcp-proxy --policy FILE -- COMMAND.

    tools/list shows what the policy allows and an operator approved (tool pins: a changed
    description or schema blocks the tool until approved again); every tools/call is decided
    by the gate (a held call answers with its approval ticket); tool results are ingested as
    untrusted content.
    Approvals and the audit log live in the store (PROCTOR_DATABASE_URL, default proctor.db).
    """
    try:
        from proctor.mcp import Downstream, McpProxy, PinMode, serve_http, serve_stdio
    except ImportError as exc:
        err.print(
            f"[red]error[/] the proxy needs the server extra: pip install 'proctor[server]' ({exc})"
        )
        raise typer.Exit(2) from None
    from proctor.approvals import ApprovalQueue
    from proctor.audit import AuditLog, AuditSettings
    from proctor.policy import load_policy

    try:
        pol = load_policy(policy)
        servers = [Downstream.parse(s) for s in server or ()]
        if command:
            if servers:
                raise ProctorError("give either --server NAME=... options or one command after --")
            servers = [Downstream("", " ".join(_quote(a) for a in command), label=name)]
        if not servers:
            raise ProctorError("no downstream server: add -- COMMAND, or --server NAME=COMMAND")
        host, port = _address(http) if http else ("", 0)
        Downstream.parse(f"{name}=x")  # the same rule as --server names
        if pins not in tuple(PinMode):
            raise ProctorError(f"--pins {pins!r}: expected enforce or tofu")
    except PolicyError as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    except ProctorError as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None

    async def main() -> None:
        log = AuditLog.open(AuditSettings.from_env())
        queue = ApprovalQueue(log.engine, audit=log)
        proxy = McpProxy(
            pol,
            servers,
            audit=log,
            queue=queue,
            tenant=tenant,
            principal=principal,
            environment=environment,
            pins=pins,
        )
        try:
            await proxy.start()
            if http:
                await serve_http(proxy, host, port)
            else:
                await serve_stdio(proxy)
        finally:
            await proxy.aclose()
            queue.close()
            log.close()

    asyncio.run(main())


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ProctorError(f"--http {value!r}: expected HOST:PORT")
    return host, int(port)
