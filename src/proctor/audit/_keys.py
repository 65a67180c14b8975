"""Ed25519 keys for signed checkpoints: loading, the dev key, the signed message.

A key is a 32-byte seed given as hex (64 characters) or base64, inline
(``PROCTOR_AUDIT_SIGNING_KEY``) or in a file (``PROCTOR_AUDIT_SIGNING_KEY_FILE``, which may also
hold a PEM private key). Public keys are 32 raw bytes, in hex or base64, or PEM.

Signing (every receipt: one signature per gated call) goes through libsodium when PyNaCl is
installed (the ``server`` extra): 26 us a signature on the development machine, against 38 us
with ``cryptography`` (OpenSSL), and the GIL is released while it signs, where
``cryptography`` holds it. Ed25519 signatures are deterministic: both give the same bytes
(tests/audit/test_keys.py checks it); without PyNaCl, ``cryptography`` signs.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from proctor.audit._canonical import canonical_json
from proctor.audit._errors import AuditKeyError

log = logging.getLogger("proctor.audit")

CHAIN = "proctor.audit/v1"
CHAIN_V2 = "proctor.audit/v2"


def checkpoint_message(seq: int, head_hash: str) -> bytes:
    """The bytes a version 1 checkpoint signs: the canonical JSON of the chain name, seq and
    head hash."""
    return canonical_json({"chain": CHAIN, "hash": head_hash, "seq": seq}).encode()


def tree_checkpoint_message(seq: int, head_hash: str, root: str, tree_from: int, ts: str) -> bytes:
    """The bytes a version 2 checkpoint signs: version 1's fields under the chain name
    ``proctor.audit/v2``, plus the Merkle root over the hashes of records ``tree_from + 1 ..
    seq`` (``tree_from``: the previous checkpoint's seq, 0 for the first) and the time it was
    signed. A version 1 signature never verifies as version 2, nor the other way round."""
    return canonical_json(
        {
            "chain": CHAIN_V2,
            "from": tree_from,
            "hash": head_hash,
            "root": root,
            "seq": seq,
            "ts": ts,
        }
    ).encode()


def _raw32(text: str, what: str) -> bytes:
    text = text.strip()
    raw: bytes | None = None
    if len(text) == 64:
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raw = None
    if raw is None:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise AuditKeyError(
            f"{what}: expected 32 bytes as 64 hex characters or base64, "
            f"got {len(text)} characters that decode to "
            f"{'nothing' if raw is None else f'{len(raw)} bytes'}"
        )
    return raw


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from hex, base64 or PEM text."""
    if "BEGIN PUBLIC KEY" in text:
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise AuditKeyError(f"expected an Ed25519 public key, got {type(key).__name__}")
        return key
    return Ed25519PublicKey.from_public_bytes(_raw32(text, "public key"))


def verify_signature(key: Ed25519PublicKey, seq: int, head_hash: str, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is ``key``'s signature of a version 1 checkpoint."""
    return verify_message(key, checkpoint_message(seq, head_hash), signature_hex)


def verify_message(key: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    """Whether ``signature_hex`` (lowercase hex, 64 bytes) is ``key``'s signature of
    ``message``. Any other spelling of the signature is refused: one signature, one text."""
    if len(signature_hex) != 128 or signature_hex != signature_hex.lower():
        return False
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.cache
def sodium() -> Any:
    """PyNaCl's libsodium bindings (``nacl.bindings``), or None if PyNaCl is not installed."""
    try:
        from nacl import bindings
    except ImportError:
        return None
    return bindings


@dataclass(frozen=True)
class Signer:
    """Signs checkpoints. ``dev`` is true for a key generated because none was configured."""

    private_key: Ed25519PrivateKey
    dev: bool = False
    # the last receipt salt derived: an outcome's record asks for it, then its receipt
    _last_salt: list[tuple[str, bytes]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @functools.cached_property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_hex(self) -> str:
        return public_raw(self.public_key).hex()

    @functools.cached_property
    def key_id(self) -> str:
        """The public key's id, derived once (every outcome record and receipt names it)."""
        return key_id(self.public_key)

    def digest_key(self) -> bytes:
        """A 32-byte key for the log's keyed digests, derived (HKDF-SHA256) from the signing
        key: whoever holds the signing key can recompute a digest, no one else can."""
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"proctor.audit/digest").derive(
            self._seed()
        )

    def receipt_salt(self, record_id: str) -> bytes:
        """The 32-byte salt of the argument commitment in the receipt of record ``record_id``:
        HMAC-SHA256, under a key derived (HKDF-SHA256) from the signing key, of the record id.
        Re-derived, never stored: the log's readers cannot test guesses of the arguments
        against the commitment; the receipt's holder gets it as the receipt's opening. The last
        one is kept: the outcome record's commitment and its receipt's opening ask for the same
        record's, one after the other."""
        kept = self._last_salt[-1:]  # a copy, taken in one step: another thread may replace it
        if kept and kept[0][0] == record_id:
            return kept[0][1]
        salt = hmac.new(self._opening_key, record_id.encode(), hashlib.sha256).digest()
        self._last_salt[:] = [(record_id, salt)]
        return salt

    @functools.cached_property
    def _opening_key(self) -> bytes:
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"proctor.receipt/opening").derive(
            self._seed()
        )

    def sign(self, seq: int, head_hash: str) -> str:
        """A version 1 checkpoint signature (hex)."""
        return self.sign_message(checkpoint_message(seq, head_hash))

    def sign_message(self, message: bytes) -> str:
        """An Ed25519 signature (hex) of ``message``: a checkpoint's or a receipt's bytes,
        which never coincide (their canonical JSON has different keys)."""
        fast = self._sodium
        if fast is not None:  # libsodium answers the signature followed by the message
            sign, secret = fast
            return str(sign(message, secret)[:64].hex())
        return self.private_key.sign(message).hex()

    @functools.cached_property
    def _sodium(self) -> tuple[Callable[[bytes, bytes], bytes], bytes] | None:
        """libsodium's signing function and the key in its form (seed and public key), or
        None without PyNaCl."""
        nacl = sodium()
        if nacl is None:
            return None
        return nacl.crypto_sign, bytes(nacl.crypto_sign_seed_keypair(self._seed())[1])

    def _seed(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    @staticmethod
    def from_seed(text: str) -> Signer:
        return Signer(Ed25519PrivateKey.from_private_bytes(_raw32(text, "signing key")))

    @staticmethod
    def from_file(path: Path) -> Signer:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AuditKeyError(f"cannot read the signing key file {path}: {exc}") from exc
        if "BEGIN PRIVATE KEY" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise AuditKeyError(f"{path}: expected an Ed25519 key, got {type(key).__name__}")
            return Signer(key)
        try:
            return Signer.from_seed(text)
        except AuditKeyError as exc:
            raise AuditKeyError(f"{path}: {exc}") from None

    @staticmethod
    def dev_key(path: Path) -> Signer:
        """The development key at ``path``, created (mode 0600) if missing. Logs a warning:
        a dev key proves nothing to an auditor who cannot trust the machine it lives on."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(32).hex() + "\n")
            try:
                os.link(tmp, path)  # atomic: of two processes racing, one key wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        signer = Signer.from_file(path)
        log.warning(
            "no PROCTOR_AUDIT_SIGNING_KEY set: signing audit checkpoints with the development "
            "key in %s (public key %s); configure a real key for production",
            path,
            signer.public_hex,
        )
        return Signer(signer.private_key, dev=True)
