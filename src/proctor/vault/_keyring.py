"""Keyrings: named 256-bit keys, one of them current. New writes use the current key; every key
in the ring still decrypts (or verifies) what it wrote. Rotation adds a key and makes it current.

A keyring file is JSON, written atomically with mode 0600::

    {"version": 1, "current": "k1a2b3c4d", "keys": [{"id": "k1a2b3c4d", "key": "<base64>",
     "created": "2026-01-01T00:00:00Z"}, ...]}

Inline (an environment variable): ``ID:BASE64[,ID:BASE64...]``, the first one current.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from proctor.errors import VaultError

KEY_BYTES = 32
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def new_key_id() -> str:
    return f"k{secrets.token_hex(4)}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decode_key(text: str, where: str) -> bytes:
    text = text.strip()
    try:
        raw = (
            bytes.fromhex(text)
            if len(text) == 2 * KEY_BYTES
            else base64.b64decode(text, validate=True)
        )
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise VaultError(f"{where}: expected a {KEY_BYTES}-byte key in base64 or hex")
    return raw


@dataclass(frozen=True)
class Keyring:
    """Named keys and the id of the current one."""

    keys: Mapping[str, bytes]
    current: str
    created: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise VaultError(f"keyring: current key {self.current!r} is not in the ring")
        for kid, key in self.keys.items():
            if not KEY_ID.match(kid):
                raise VaultError(f"keyring: bad key id {kid!r}")
            if len(key) != KEY_BYTES:
                raise VaultError(f"keyring: key {kid!r} is not {KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never print key material
        return f"Keyring(current={self.current!r}, ids={sorted(self.keys)!r})"

    @classmethod
    def generate(cls) -> Keyring:
        kid = new_key_id()
        return cls({kid: secrets.token_bytes(KEY_BYTES)}, kid, {kid: _now()})

    def rotated(self) -> Keyring:
        """This ring plus a new key, which becomes current."""
        kid = new_key_id()
        while kid in self.keys:  # pragma: no cover - 32 random bits colliding
            kid = new_key_id()
        return Keyring(
            {**self.keys, kid: secrets.token_bytes(KEY_BYTES)}, kid, {**self.created, kid: _now()}
        )

    def without(self, key_id: str) -> Keyring:
        """This ring without a retired key (never the current one)."""
        if key_id == self.current:
            raise VaultError(f"keyring: {key_id!r} is the current key; rotate first")
        keys = {k: v for k, v in self.keys.items() if k != key_id}
        return Keyring(keys, self.current, {k: v for k, v in self.created.items() if k in keys})

    def key(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise VaultError(f"keyring: no key {key_id!r} (retired, or another ring)") from None

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current]

    def derive(self, purpose: str, key_id: str | None = None) -> bytes:
        """A 32-byte subkey of ``key_id`` (the current key by default) for one purpose."""
        hkdf = HKDF(hashes.SHA256(), KEY_BYTES, salt=None, info=b"proctor:" + purpose.encode())
        return hkdf.derive(self.key(key_id or self.current))

    # -- text and files ---------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, where: str = "inline keyring") -> Keyring:
        """``ID:BASE64[,ID:BASE64...]``, the first one current."""
        keys: dict[str, bytes] = {}
        for i, part in enumerate(p.strip() for p in text.split(",") if p.strip()):
            kid, sep, material = part.partition(":")
            if not sep:
                raise VaultError(f"{where}: entry {i + 1} is not ID:KEY")
            keys[kid.strip()] = _decode_key(material, f"{where}: key {kid.strip()!r}")
        if not keys:
            raise VaultError(f"{where}: no keys")
        return cls(keys, next(iter(keys)))

    def to_json(self) -> str:
        entries = [
            {
                "id": kid,
                "key": base64.b64encode(key).decode(),
                "created": self.created.get(kid, ""),
            }
            for kid, key in self.keys.items()
        ]
        return json.dumps({"version": 1, "current": self.current, "keys": entries}, indent=2)

    @classmethod
    def from_json(cls, text: str, where: str = "keyring") -> Keyring:
        try:
            data = json.loads(text)
            entries = data["keys"]
            keys = {
                str(e["id"]): _decode_key(str(e["key"]), f"{where}: key {e['id']!r}")
                for e in entries
            }
            created = {str(e["id"]): str(e.get("created", "")) for e in entries}
            return cls(keys, str(data["current"]), created)
        except (ValueError, KeyError, TypeError) as exc:
            raise VaultError(f"{where}: not a keyring file ({type(exc).__name__}: {exc})") from None

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise VaultError(f"cannot read keyring {path}: {exc}") from None
        return cls.from_json(text, str(path))

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, fsync, rename), readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".keyring-", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
