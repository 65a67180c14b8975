"""``proctor receipt``: verify a receipt offline, fetch one from the log, complete it with its
inclusion proof."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proctor.audit import (
    AuditError,
    complete_receipt,
    find_outcome,
    receipt_for,
    verify_receipt,
)
from proctor.cli.audit import DatabaseUrl, _key, _open
from proctor.errors import ReceiptError
from proctor.model import Receipt

app = typer.Typer(
    help="Signed receipts of recorded outcomes: verify offline, fetch, complete with a proof.",
    no_args_is_help=True,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _read(path: Path) -> Receipt:
    try:
        return Receipt.from_json(path.read_bytes())
    except OSError as exc:
        err.print(f"[red]error[/] cannot read {path}: {exc}")
        raise typer.Exit(2) from None
    except ReceiptError as exc:
        err.print(f"[red]FAIL[/] {path} is not a well-formed receipt: {exc}")
        raise typer.Exit(1) from None


def _read_args(path: Path) -> dict[str, object]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        err.print(f"[red]error[/] cannot read the arguments in {path}: {exc}")
        raise typer.Exit(2) from None
    if not isinstance(value, dict):
        err.print(f"[red]error[/] {path}: the arguments are one JSON object")
        raise typer.Exit(2)
    return value


def _write(receipt: Receipt, output: Path | None) -> None:
    text = receipt.to_json()
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")


Output = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the receipt to this file (default: stdout)."),
]


@app.command("verify")
def verify_cmd(
    receipt_file: Annotated[Path, typer.Argument(help="The receipt (JSON).")],
    public_key: Annotated[
        list[str],
        typer.Option(
            "--public-key",
            help="A trusted Ed25519 public key of the log: hex, base64, or a PEM file; "
            "repeatable (a rotated key).",
        ),
    ],
    require_proof: Annotated[
        bool,
        typer.Option("--require-proof", help="Fail unless the receipt carries an inclusion proof."),
    ] = False,
    args_file: Annotated[
        Path | None,
        typer.Option(
            "--args",
            help="The call's arguments (a JSON object, with the same JSON types): check that "
            "the receipt commits to exactly these (needs the receipt's opening).",
        ),
    ] = None,
) -> None:
    """Check a receipt without the database: its signature, if completed its proof, and with
    --args the call's arguments.

    Exit 0 if the receipt is signed by a trusted key, (when it carries one) its inclusion path
    leads to the Merkle root of a checkpoint signed by a trusted key, and (with --args) its
    opening opens its argument commitment on those arguments; exit 1 naming what failed
    otherwise; exit 2 for a bad key or an unreadable file.
    """
    try:
        keys = [_key(k) for k in public_key]
    except (AuditError, ValueError, OSError) as exc:
        err.print(f"[red]error[/] bad public key: {exc}")
        raise typer.Exit(2) from None
    receipt = _read(receipt_file)
    args = None if args_file is None else _read_args(args_file)
    try:
        check = verify_receipt(receipt, keys, require_proof=require_proof, args=args)
    except ReceiptError as exc:
        typer.echo(f"FAIL {exc}")
        raise typer.Exit(1) from None
    r = check.receipt
    what = f"{r.tool} call {r.call_id}: {r.verdict} {r.status} (rules {', '.join(r.rule_ids)})"
    who = f"agent {r.agent}, tenant {r.tenant}, {r.environment}, session {r.session_id}"
    what += f"; {who}; " + ("arguments match" if check.args_checked else "arguments not checked")
    where = f"record seq {r.seq} of the log of key {r.key_id}"
    if check.included:
        typer.echo(f"ok {what}; {where}, included in checkpoint {check.checkpoint_seq}")
    else:
        typer.echo(f"ok {what}; {where} (signed; no inclusion proof yet)")


@app.command()
def get(
    call_id: Annotated[str, typer.Argument(help="The call id (call_...).")],
    session: Annotated[
        str | None,
        typer.Option("--session", help="The call's session: narrows the search to its records."),
    ] = None,
    complete: Annotated[
        bool,
        typer.Option("--complete", help="Add the inclusion proof (needs a covering checkpoint)."),
    ] = False,
    output: Output = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Sign again the receipt of a call's last recorded outcome (needs the database and the
    signing key): the same bytes as the receipt the caller was given."""
    settings, log = _open(database_url)
    try:
        if not settings.has_key and not settings.dev_key_path.exists():
            err.print("[red]error[/] no signing key: set PROCTOR_AUDIT_SIGNING_KEY(_FILE)")
            raise typer.Exit(2)
        receipt = receipt_for(find_outcome(log.engine, call_id, session), settings.signer())
        if receipt.opening is None:
            err.print(
                "[yellow]warning[/] another key committed to this call's arguments: the "
                "receipt has no opening (the one given at call time has)"
            )
        if complete:
            receipt = complete_receipt(log.engine, receipt)
    except (ReceiptError, AuditError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        log.engine.dispose()
    _write(receipt, output)


@app.command("complete")
def complete_cmd(
    receipt_file: Annotated[Path, typer.Argument(help="The receipt (JSON).")],
    output: Output = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add the inclusion proof of the receipt's record (needs the database, no key).

    The proof is the checkpoint that covers the record and the record's Merkle path in it;
    exit 1 if no checkpoint covers it yet, or the log does not hold the receipt's record.
    """
    receipt = _read(receipt_file)
    _, log = _open(database_url)
    try:
        completed = complete_receipt(log.engine, receipt)
    except (ReceiptError, AuditError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(1) from None
    finally:
        log.engine.dispose()
    _write(completed, output)
