"""What the approval, break-glass, agent and access commands share: the store, the audit log,
the webhook, and the caller's identity (``--as NAME`` or ``PROCTOR_AS``, with the key from
``PROCTOR_KEY`` or a hidden prompt; never on the command line, where ``ps`` would show it)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

import typer
from rich.console import Console

from proctor.approvals import ApprovalQueue, ApprovalSettings, Principal
from proctor.audit import AuditError, AuditLog, AuditSettings, events
from proctor.errors import (
    AccessDeniedError,
    ApprovalError,
    ApprovalNotFoundError,
    AuthenticationError,
)
from proctor.store import StoreError, StoreSettings, create_store_engine, migrate

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PROCTOR_DATABASE_URL",
        help="SQLAlchemy URL of the store (default: the SQLite file proctor.db).",
        show_default=False,
    ),
]
As = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="PROCTOR_AS",
        help="Who you are: a principal in the registry. The key is read from PROCTOR_KEY, "
        "or prompted for.",
        show_default=False,
    ),
]


@dataclass
class Context:
    queue: ApprovalQueue
    who: Principal | None


def _key(name: str) -> str:
    key = os.environ.get("PROCTOR_KEY")
    if key:
        return key
    if sys.stdin.isatty():
        return str(typer.prompt(f"key of {name}", hide_input=True))
    err.print("[red]error[/] no key: set PROCTOR_KEY (or run in a terminal to be prompted)")
    raise typer.Exit(3)


def _settings(database_url: str | None) -> AuditSettings:
    base = AuditSettings.from_env()
    return AuditSettings(
        store=StoreSettings(
            database_url=database_url,
            sqlite_path=base.store.sqlite_path,
            sqlite_synchronous=base.store.sqlite_synchronous,
        ),
        signing_key=base.signing_key,
        signing_key_file=base.signing_key_file,
        public_keys=base.public_keys,
        checkpoint_every=base.checkpoint_every,
        checkpoint_seconds=base.checkpoint_seconds,
    )


@contextmanager
def acting(
    database_url: str | None, as_: str | None, *, create: bool = False, anonymous: bool = False
) -> Iterator[Context]:
    """The queue, and the caller authenticated (None only if ``anonymous`` and no ``--as``).
    Maps every expected error to a message and an exit status: 1 refused by the request's
    state, 2 store or configuration, 3 identity or role."""
    queue = None
    try:
        settings = _settings(database_url)
        if not database_url and not create and not settings.store.sqlite_path.exists():
            err.print(f"[red]error[/] no store: {settings.store.sqlite_path} does not exist")
            raise typer.Exit(2)
        engine = create_store_engine(settings.store)
        migrate(engine)
        log = AuditLog(
            engine,
            settings.signer(),
            checkpoint_every=settings.checkpoint_every,
            checkpoint_seconds=settings.checkpoint_seconds,
        )
        conf = ApprovalSettings.from_env()
        queue = ApprovalQueue(
            engine,
            audit=log,
            notifier=conf.notifier(),
            max_break_glass_minutes=conf.max_break_glass_minutes,
        )
        who = None
        if as_ is not None:
            who = queue.authenticate(as_, _key(as_))
        elif not anonymous:
            err.print("[red]error[/] who are you? pass --as NAME (or set PROCTOR_AS)")
            raise typer.Exit(3)
        yield Context(queue, who)
    except AuthenticationError as exc:
        err.print(f"[red]refused[/] {exc}")
        raise typer.Exit(3) from None
    except AccessDeniedError as exc:
        err.print(f"[red]refused[/] {exc}")
        if queue is not None and not getattr(exc, "recorded", False):
            _record_refusal(queue, as_, str(exc))
        raise typer.Exit(3) from None
    except ApprovalNotFoundError as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    except (ApprovalError, ValueError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    except (StoreError, AuditError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        if queue is not None:
            try:
                queue.close()
            except Exception as exc:  # a relay that failed is retried by the next process
                err.print(f"[yellow]warning[/] could not relay every record yet: {exc}")


def _command() -> str:
    """The command being run (``proctor approvals approve``), for the record; "" outside one.
    Typer 0.2x carries its own copy of click, older ones use click: ask whichever runs."""
    for module in ("typer._click.globals", "click"):
        try:
            current = importlib.import_module(module).get_current_context
        except (ImportError, AttributeError):
            continue
        ctx = current(silent=True)
        return str(ctx.command_path) if ctx is not None else ""
    return ""


def _record_refusal(queue: ApprovalQueue, who: str | None, why: str) -> None:
    """A refused command is evidence: record it as an alert (best effort)."""
    try:
        with queue.engine.begin() as conn:
            queue.recorder.add(
                conn,
                events.alert(
                    "access.refused",
                    f"{who or 'anonymous'} was refused: {why}",
                    detail={"by": who, "command": _command()},
                ),
            )
        queue.recorder.relay()
    except Exception as exc:
        err.print(f"[yellow]warning[/] could not record the refusal: {exc}")


def require(ctx: Context) -> Principal:
    if ctx.who is None:  # acting() refuses this unless anonymous was allowed
        raise AccessDeniedError("this command needs --as")
    return ctx.who
