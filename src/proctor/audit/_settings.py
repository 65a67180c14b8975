"""Audit settings: the store, the checkpoint signing key, and how often to checkpoint."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from proctor.audit._errors import AuditError
from proctor.audit._keys import Signer, parse_public_key
from proctor.store import StoreSettings

DEV_KEY_NAME = ".proctor-audit-dev.key"


@dataclass(frozen=True, slots=True)
class AuditSettings:
    """``signing_key`` (hex or base64 seed) or ``signing_key_file``; with neither, a development
    key is generated next to the SQLite file (or in the working directory) and a warning logged.
    ``public_keys`` are the extra keys ``verify`` trusts besides the signing key's own.
    A checkpoint is signed every ``checkpoint_every`` records or ``checkpoint_seconds`` seconds,
    whichever comes first (checked at each append), and when the log is closed."""

    store: StoreSettings = field(default_factory=StoreSettings)
    signing_key: str | None = None
    signing_key_file: Path | None = None
    public_keys: tuple[str, ...] = ()
    checkpoint_every: int = 1000
    checkpoint_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.checkpoint_every < 1:
            raise AuditError(f"checkpoint_every must be >= 1, got {self.checkpoint_every}")
        if self.checkpoint_seconds <= 0:
            raise AuditError(f"checkpoint_seconds must be > 0, got {self.checkpoint_seconds}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AuditSettings:
        """``PROCTOR_AUDIT_SIGNING_KEY``, ``PROCTOR_AUDIT_SIGNING_KEY_FILE``,
        ``PROCTOR_AUDIT_PUBLIC_KEY`` (comma-separated), ``PROCTOR_AUDIT_CHECKPOINT_EVERY``,
        ``PROCTOR_AUDIT_CHECKPOINT_SECONDS``, plus the store's variables."""
        env = os.environ if environ is None else environ
        key_file = env.get("PROCTOR_AUDIT_SIGNING_KEY_FILE")
        publics = env.get("PROCTOR_AUDIT_PUBLIC_KEY", "")
        try:
            every = int(env.get("PROCTOR_AUDIT_CHECKPOINT_EVERY") or 1000)
            seconds = float(env.get("PROCTOR_AUDIT_CHECKPOINT_SECONDS") or 60.0)
        except ValueError as exc:
            raise AuditError(f"bad checkpoint setting in the environment: {exc}") from None
        return cls(
            store=StoreSettings.from_env(env),
            signing_key=env.get("PROCTOR_AUDIT_SIGNING_KEY") or None,
            signing_key_file=Path(key_file) if key_file else None,
            public_keys=tuple(k.strip() for k in publics.split(",") if k.strip()),
            checkpoint_every=every,
            checkpoint_seconds=seconds,
        )

    @property
    def dev_key_path(self) -> Path:
        """Where the development key lives: beside the SQLite file, or in the working dir."""
        if not self.store.database_url:
            return self.store.sqlite_path.parent / DEV_KEY_NAME
        return Path(DEV_KEY_NAME)

    @property
    def has_key(self) -> bool:
        return bool(self.signing_key) or self.signing_key_file is not None

    def signer(self) -> Signer:
        """The configured signing key, or the development key (with a warning)."""
        if self.signing_key:
            return Signer.from_seed(self.signing_key)
        if self.signing_key_file is not None:
            return Signer.from_file(self.signing_key_file)
        return Signer.dev_key(self.dev_key_path)

    def trusted_keys(self) -> list[Ed25519PublicKey]:
        """The keys verification trusts: ``public_keys``, the configured signing key's, and the
        development key's if one exists. Empty: nothing configured."""
        keys = [parse_public_key(k) for k in self.public_keys]
        if self.has_key:
            keys.append(self.signer().public_key)
        elif self.dev_key_path.exists():
            keys.append(Signer.from_file(self.dev_key_path).public_key)
        return keys
