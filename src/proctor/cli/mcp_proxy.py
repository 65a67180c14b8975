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
) -> None:
    """Put the gate in front of an MCP server: proctor mcp-proxy --policy FILE -- COMMAND.

    tools/list shows what the policy allows; every tools/call is decided by the gate (a held
    call answers with its approval ticket); tool results are ingested as untrusted content.
    Approvals and the audit log live in the store (PROCTOR_DATABASE_URL, default proctor.db).
    """
    try:
        from proctor.mcp import Downstream, McpProxy, serve_http, serve_stdio
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
            servers = [Downstream("", " ".join(_quote(a) for a in command))]
        if not servers:
            raise ProctorError("no downstream server: add -- COMMAND, or --server NAME=COMMAND")
        host, port = _address(http) if http else ("", 0)
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
