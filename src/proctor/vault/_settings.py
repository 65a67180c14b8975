"""Vault settings: the store, and the keyring (a file, or inline in the environment)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proctor.store import StoreSettings, create_store_engine, migrate
from proctor.vault._keyring import Keyring
from proctor.vault._store import SqlVaultStore
from proctor.vault._vault import Vault

log = logging.getLogger("proctor.vault")
DEV_KEYRING_NAME = ".proctor-vault.keys"


@dataclass(frozen=True, slots=True)
class VaultSettings:
    """``keys`` (inline ``ID:BASE64,...``, first current) or ``keyring_file`` (JSON, see
    ``Keyring``); with neither, a development keyring is generated beside the SQLite file (or
    in the working directory) and a warning logged. ``proctor vault rotate-key`` rotates the
    file."""

    store: StoreSettings = field(default_factory=StoreSettings)
    keyring_file: Path | None = None
    keys: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VaultSettings:
        """``PROCTOR_VAULT_KEYS``, ``PROCTOR_VAULT_KEYRING`` (a file), plus the store's."""
        env = os.environ if environ is None else environ
        path = env.get("PROCTOR_VAULT_KEYRING")
        return cls(
            store=StoreSettings.from_env(env),
            keyring_file=Path(path) if path else None,
            keys=env.get("PROCTOR_VAULT_KEYS") or None,
        )

    @property
    def dev_keyring_path(self) -> Path:
        if not self.store.database_url:
            return self.store.sqlite_path.parent / DEV_KEYRING_NAME
        return Path(DEV_KEYRING_NAME)

    @property
    def keyring_path(self) -> Path:
        """The file ``rotate-key`` writes: the configured one or the development one."""
        return self.keyring_file or self.dev_keyring_path

    def keyring(self) -> Keyring:
        if self.keys:
            return Keyring.parse(self.keys, "PROCTOR_VAULT_KEYS")
        if self.keyring_file is not None:
            return Keyring.from_file(self.keyring_file)
        path = self.dev_keyring_path
        if path.exists():
            return Keyring.from_file(path)
        log.warning(
            "no vault keyring configured (PROCTOR_VAULT_KEYRING or PROCTOR_VAULT_KEYS); "
            "generating a development keyring at %s",
            path,
        )
        ring = Keyring.generate()
        ring.save(path)
        return ring


def open_vault(settings: VaultSettings | None = None, *, migrate_schema: bool = True) -> Vault:
    """The SQL-backed vault the settings describe (``VaultSettings.from_env()`` by default);
    brings the schema up to date first unless ``migrate_schema`` is false."""
    settings = settings or VaultSettings.from_env()
    engine = create_store_engine(settings.store)
    if migrate_schema:
        migrate(engine)
    return Vault(SqlVaultStore(engine), settings.keyring())
