"""``proctor serve``: the HTTP gateway (docs/gateway.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proctor.errors import PolicyError, ProctorError

err = Console(stderr=True, highlight=False, soft_wrap=True)


def serve(
    policy: Annotated[
        Path,
        typer.Option(
            "--policy", help="A policy file, or a directory of them (every *.yaml).", exists=True
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8700,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="PROCTOR_DATABASE_URL",
            help="SQLAlchemy URL of the store (default: the SQLite file proctor.db).",
            show_default=False,
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            "--redis-url",
            envvar="PROCTOR_REDIS_URL",
            help="Redis shared by several gateway processes (rate limits, pause flags, hot "
            "session state). Unset: that state lives in this one process.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "warning",
) -> None:
    """Serve the gate over HTTP: sessions, ingest, decide, call, approvals, audit, agents.

    Keys come from the principal registry (proctor access add); agent keys need --agent and
    --tenant. /healthz, /readyz and /metrics need no key; the OpenAPI spec is at /openapi.json.
    """
    try:
        import uvicorn

        from proctor.server import GatewaySettings, create_app
        from proctor.server._http import OneWriteProtocol
    except ImportError as exc:
        err.print(
            "[red]error[/] the gateway needs the server extra: "
            f"pip install 'proctor[server]' ({exc})"
        )
        raise typer.Exit(2) from None
    import os

    if database_url:
        os.environ["PROCTOR_DATABASE_URL"] = database_url
    try:
        settings = GatewaySettings.from_env(policy, host=host, port=port, redis_url=redis_url)
        from proctor.policy import load_policies

        load_policies(settings.policy)  # fail here, with file:line, not inside the server
    except PolicyError as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    except ProctorError as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    app = create_app(settings, settle_heap=True)
    err.print(f"proctor gateway on http://{host}:{port} (policy {policy})")
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
        http=OneWriteProtocol,  # head and body in one write
    )
