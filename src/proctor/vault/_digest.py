"""Keyed digests: what a log may keep of a value to tell equal values apart, without letting a
reader guess the value.

A bare SHA-256 of a low-entropy value (an amount, a card number, a yes/no) is reversed by
hashing every candidate. An HMAC-SHA256 under a key the reader does not hold is not. The text
digested is the canonical JSON of the value, the same encoding as
``proctor.audit._canonical.value_digest``, so that the audit log can switch from one to the
other value for value (``proctor.audit.mask_value(value, digest)``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping

from proctor._json import VALUE as _ENCODER
from proctor.errors import VaultError
from proctor.vault._keyring import Keyring, _decode_key

PREFIX = "hmac-sha256"


def canonical(value: object) -> bytes:
    return _ENCODER.encode(value).encode("utf-8", "surrogatepass")


class KeyedDigest:
    """``digest(value)`` -> ``hmac-sha256:<key id>:<hex>``. The key id names which key made it:
    a verifier that holds the key can recompute it; a reader without the key learns nothing."""

    def __init__(self, key: bytes, key_id: str) -> None:
        if len(key) < 32:
            raise VaultError("a digest key needs at least 32 bytes")
        self._key = key
        self.key_id = key_id

    def __repr__(self) -> str:
        return f"KeyedDigest(key_id={self.key_id!r})"

    @classmethod
    def from_keyring(cls, keyring: Keyring) -> KeyedDigest:
        """A digest key derived (HKDF) from the keyring's current key."""
        return cls(keyring.derive("digest"), keyring.current)

    @classmethod
    def ephemeral(cls) -> KeyedDigest:
        """A random key for this process: digests compare within it only."""
        return cls(secrets.token_bytes(32), "ephemeral")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> KeyedDigest | None:
        """``PROCTOR_DIGEST_KEY`` (32 bytes, base64 or hex) with ``PROCTOR_DIGEST_KEY_ID``
        (default ``d1``); None when unset."""
        env = os.environ if environ is None else environ
        text = env.get("PROCTOR_DIGEST_KEY")
        if not text:
            return None
        return cls(_decode_key(text, "PROCTOR_DIGEST_KEY"), env.get("PROCTOR_DIGEST_KEY_ID", "d1"))

    def hex(self, value: object) -> str:
        return hmac.new(self._key, canonical(value), hashlib.sha256).hexdigest()

    def __call__(self, value: object) -> str:
        return f"{PREFIX}:{self.key_id}:{self.hex(value)}"
