"""Where secrets come from: a ``SecretBackend``. Environment variables and an encrypted file
are built in; Vault or a cloud secret manager is a class with a ``get`` method.

Every backend keeps environments apart: a secret is stored for one environment, and a lookup
names the environment it is for. ``production`` never reads ``staging``'s value, and vice
versa, whatever the name.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proctor.errors import CredentialError, VaultError
from proctor.model import Environment
from proctor.vault import Keyring

_NON_ALNUM = re.compile(r"[^A-Z0-9]")


class SecretBackend(Protocol):
    """Resolves a secret's name in one environment; None if it has no such secret there."""

    def get(self, name: str, environment: Environment) -> str | None: ...


class EnvSecretBackend:
    """Secrets in environment variables: ``secret://stripe-key`` in production is
    ``PROCTOR_SECRET_PRODUCTION__STRIPE_KEY`` (upper case, other characters as ``_``)."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, prefix: str = "PROCTOR_SECRET_"
    ) -> None:
        self._environ = environ
        self.prefix = prefix

    def variable(self, name: str, environment: Environment) -> str:
        env = str(environment).upper()
        return f"{self.prefix}{env}__{_NON_ALNUM.sub('_', name.upper())}"

    def get(self, name: str, environment: Environment) -> str | None:
        environ = os.environ if self._environ is None else self._environ
        return environ.get(self.variable(name, environment)) or None


_AAD = b"proctor-secrets-v1"


class EncryptedFileSecretBackend:
    """Secrets in one file, sealed with AES-256-GCM under a keyring's current key::

        {"version": 1, "key_id": "k…", "nonce": "<base64>", "ciphertext": "<base64>"}

    The plaintext is ``{"production": {"name": "value"}, "staging": {...}}``. ``put`` reseals
    the whole file under the current key (so a rotation takes effect at the next write).
    """

    def __init__(self, path: Path, keyring: Keyring) -> None:
        self.path = path
        self.keyring = keyring
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, dict[str, str]]] | None = None

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return {}
        if self._cache is not None and self._cache[0] == mtime:
            return self._cache[1]
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            key = self.keyring.key(str(doc["key_id"]))
            nonce, ct = base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"])
            clear = AESGCM(key).decrypt(nonce, ct, _AAD + str(doc["key_id"]).encode())
            data: dict[str, dict[str, str]] = json.loads(clear)
        except (OSError, ValueError, KeyError, TypeError, InvalidTag, VaultError) as exc:
            raise CredentialError(
                f"cannot open the secrets file {self.path}: {type(exc).__name__}"
            ) from None
        self._cache = (mtime, data)
        return data

    def get(self, name: str, environment: Environment) -> str | None:
        with self._lock:
            return self._read().get(str(environment), {}).get(name)

    def names(self) -> dict[str, list[str]]:
        """The names stored, per environment (never the values)."""
        with self._lock:
            return {env: sorted(vals) for env, vals in sorted(self._read().items())}

    def put(self, name: str, environment: Environment, value: str | None) -> None:
        """Store (or, with None, delete) one secret; the file is rewritten atomically."""
        with self._lock:
            data = {env: dict(vals) for env, vals in self._read().items()}
            bucket = data.setdefault(str(environment), {})
            if value is None:
                bucket.pop(name, None)
            else:
                bucket[name] = value
            kid = self.keyring.current
            nonce = secrets.token_bytes(12)
            ct = AESGCM(self.keyring.current_key).encrypt(
                nonce, json.dumps(data).encode(), _AAD + kid.encode()
            )
            doc = {
                "version": 1,
                "key_id": kid,
                "nonce": base64.b64encode(nonce).decode(),
                "ciphertext": base64.b64encode(ct).decode(),
            }
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".secrets-", dir=self.path.parent)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(doc, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._cache = None
