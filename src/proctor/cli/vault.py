"""``proctor vault``: the tokenization vault's keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from proctor.errors import ProctorError
from proctor.store import StoreSettings
from proctor.vault import Keyring, SqlVaultStore, Vault, VaultSettings, open_vault

app = typer.Typer(
    help="The tokenization vault: rotate its key, show its state.", no_args_is_help=True
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
KeyringFile = Annotated[
    Path | None,
    typer.Option(
        "--keyring",
        envvar="PROCTOR_VAULT_KEYRING",
        help="The vault's keyring file (default: the development keyring beside proctor.db).",
        show_default=False,
    ),
]


def _settings(database_url: str | None, keyring: Path | None) -> VaultSettings:
    base = VaultSettings.from_env()
    if base.keys:
        err.print(
            "[red]error[/] the keyring is inline in PROCTOR_VAULT_KEYS; rotate it there (add a "
            "key first in the list) or move it to a file (PROCTOR_VAULT_KEYRING)"
        )
        raise typer.Exit(2)
    store = StoreSettings(
        database_url=database_url,
        sqlite_path=base.store.sqlite_path,
        sqlite_synchronous=base.store.sqlite_synchronous,
    )
    return VaultSettings(store=store, keyring_file=keyring)


@app.command("rotate-key")
def rotate_key(
    keyring: KeyringFile = None,
    reencrypt: Annotated[
        bool,
        typer.Option(
            "--reencrypt", help="Also reseal every stored token under the new key (one pass)."
        ),
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Add a new key to the vault's keyring and make it current.

    New tokens are sealed with it; every older key in the ring still decrypts. Gateways pick
    the new key up when they restart. With --reencrypt, stored tokens are resealed under the
    new key, after which the old keys can be retired from the file.
    """
    settings = _settings(database_url, keyring)
    path = settings.keyring_path
    try:
        ring = Keyring.from_file(path) if path.exists() else Keyring.generate()
        rotated = ring.rotated()
        rotated.save(path)
    except (ProctorError, OSError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    out = Console(highlight=False, soft_wrap=True)
    out.print(
        f"rotated: current key {rotated.current} (was {ring.current}); "
        f"{len(rotated.keys)} keys in {path}"
    )
    if not reencrypt:
        return
    try:
        vault = open_vault(settings)
        moved = vault.reencrypt()
    except (ProctorError, OSError) as exc:
        err.print(f"[red]error[/] re-encryption stopped: {exc}")
        raise typer.Exit(1) from None
    out.print(f"resealed {moved} tokens under {rotated.current}")
    if isinstance(vault.store, SqlVaultStore):
        vault.store.engine.dispose()


@app.command()
def status(keyring: KeyringFile = None, database_url: DatabaseUrl = None) -> None:
    """Show the keyring's keys and how many stored tokens each one sealed."""
    settings = _settings(database_url, keyring)
    try:
        vault: Vault = open_vault(settings)
        counts = vault.store.count_by_key()
    except (ProctorError, OSError) as exc:
        err.print(f"[red]error[/] {exc}")
        raise typer.Exit(2) from None
    out = Console(highlight=False, soft_wrap=True)
    ring = vault.keyring
    for kid in ring.keys:
        mark = " (current)" if kid == ring.current else ""
        created = ring.created.get(kid) or "?"
        out.print(f"{kid}{mark}  created {created}  tokens {counts.pop(kid, 0)}")
    for kid, n in sorted(counts.items()):
        out.print(f"[red]{kid}  NOT IN THE RING[/]  tokens {n} (cannot be detokenized)")
    if isinstance(vault.store, SqlVaultStore):
        vault.store.engine.dispose()
