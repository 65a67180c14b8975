"""``proctor audit``: verify the audit chain, tell a session's story, export records."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console

from proctor.audit import AuditError, AuditLog, AuditSettings, export_jsonl, story, verify
from proctor.audit import parse_public_key as _parse_key
from proctor.store import StoreError, StoreSettings, create_store_engine, current_revision

app = typer.Typer(
    help="Verify, read and export the tamper-evident audit log.", no_args_is_help=True
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PROCTOR_DATABASE_URL",
        help="SQLAlchemy URL of the store (default: the SQLite file proctor.db).",
        show_default=False,
    ),
]


def _open(database_url: str | None) -> tuple[AuditSettings, AuditLog]:
    """The existing log; exit 2 if there is none (reading never creates a database)."""
    base = AuditSettings.from_env()
    settings = AuditSettings(
        store=StoreSettings(
            database_url=database_url,
            sqlite_path=base.store.sqlite_path,
            sqlite_synchronous=base.store.sqlite_synchronous,
        ),
        signing_key=base.signing_key,
        signing_key_file=base.signing_key_file,
        public_keys=base.public_keys,
    )
    if not database_url and not settings.store.sqlite_path.exists():
        err.print(f"[red]error[/] no audit log: {settings.store.sqlite_path} does not exist")
        raise typer.Exit(2)
    engine = create_store_engine(settings.store)
    where = engine.url.render_as_string(hide_password=True)
    try:
        revision = current_revision(engine)
    except Exception as exc:
        err.print(f"[red]error[/] cannot read the store at {where}: {exc}")
        raise typer.Exit(2) from None
    if revision is None:
        err.print(f"[red]error[/] no audit log in {where} (never migrated)")
        raise typer.Exit(2)
    return settings, AuditLog(engine, None)


def _key(value: str) -> Ed25519PublicKey:
    path = Path(value)
    if len(value) < 200 and path.is_file():
        return _parse_key(path.read_text(encoding="utf-8"))
    return _parse_key(value)


@app.command("verify")
def verify_cmd(
    database_url: DatabaseUrl = None,
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            "--public-key",
            help="A trusted Ed25519 public key: hex, base64, or a PEM file; repeatable. "
            "Default: PROCTOR_AUDIT_PUBLIC_KEY, the configured signing key, or the dev key.",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="Processes verifying in parallel, above 50,000 records; 0: one per CPU.",
        ),
    ] = 0,
) -> None:
    """Check the hash chain, every signed checkpoint and its Merkle root.

    Exit 1 and name the first bad record (by sequence number, and why) if a record was edited,
    deleted, inserted, moved, or the tail truncated after a signed checkpoint, or if a
    checkpoint's root is not that of the records it covers.
    """
    settings, log = _open(database_url)
    try:
        keys = [_key(k) for k in public_key] if public_key else settings.trusted_keys()
    except (AuditError, ValueError, OSError) as exc:
        err.print(f"[red]error[/] bad public key: {exc}")
        raise typer.Exit(2) from None
    report = verify(log.engine, keys or None, workers=workers or os.cpu_count() or 1)
    log.engine.dispose()
    out = Console(highlight=False, soft_wrap=True)
    if not report.keys_trusted:
        err.print(
            "[yellow]warning[/] no trusted public key configured: checkpoint signatures were "
            "checked against the keys stored in the database (pass --public-key)"
        )
    if report.ok:
        out.print(
            f"[green]ok[/] {report.records} records (seq 1..{report.last_seq}), "
            f"{report.checkpoints} signed checkpoints (last at seq {report.last_checkpoint}), "
            f"{report.roots} Merkle roots recomputed, head {report.head_hash}"
        )
        return
    first = report.problems[0]
    out.print(f"[red]FAIL[/] first bad record: seq {first.seq}: {first.fault}: {first.message}")
    for problem in report.problems[1:10]:
        out.print(f"  also: {problem}")
    if len(report.problems) > 10:
        out.print(f"  ... and {len(report.problems) - 10} more")
    raise typer.Exit(1)


@app.command()
def show(
    session: Annotated[str, typer.Option("--session", help="The session id.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Print the story of a session.

    What it opened with, what it tried and why, what was decided by which rule, who approved,
    what came of it. Argument values and outputs appear as type and digest only.
    """
    _, log = _open(database_url)
    lines = 0
    for line in story(log.records(session_id=session)):
        typer.echo(line)
        lines += 1
    log.engine.dispose()
    if not lines:
        err.print(f"[red]error[/] no records for session {session}")
        raise typer.Exit(1)


class Format(StrEnum):
    JSONL = "jsonl"


@app.command()
def export(
    format: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.JSONL,
    after: Annotated[int, typer.Option("--after", help="Only records after this seq.")] = 0,
    database_url: DatabaseUrl = None,
) -> None:
    """Stream records as JSON lines for a SIEM.

    One canonical JSON object per record, in chain order, with its hashes.
    """
    _, log = _open(database_url)
    try:
        export_jsonl(log.records(after_seq=after), sys.stdout)
    except (AuditError, StoreError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        log.engine.dispose()
