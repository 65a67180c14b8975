"""Checkpoint keys: seeds in hex, base64 or files; the dev key; public keys for verifiers."""

from __future__ import annotations

import base64
import logging

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from proctor.audit import AuditKeyError, AuditSettings, Signer, _keys, parse_public_key
from proctor.audit._keys import verify_signature
from proctor.store import StoreSettings

SEED = bytes(range(32))


def test_hex_and_base64_seeds_give_the_same_key():
    a = Signer.from_seed(SEED.hex())
    b = Signer.from_seed(base64.b64encode(SEED).decode())
    assert a.public_hex == b.public_hex
    assert len(a.key_id) == 16


def test_signatures_verify_with_the_public_key_only():
    signer = Signer.from_seed(SEED.hex())
    sig = signer.sign(42, "ab" * 32)
    public = parse_public_key(signer.public_hex)
    assert verify_signature(public, 42, "ab" * 32, sig)
    assert not verify_signature(public, 43, "ab" * 32, sig)
    assert not verify_signature(public, 42, "cd" * 32, sig)
    assert not verify_signature(public, 42, "ab" * 32, "00" * 64)


MESSAGES = [b"", b"x", b'{"chain":"proctor.audit/v2","seq":1}', bytes(range(256)) * 8]


@pytest.mark.parametrize("message", MESSAGES, ids=["empty", "one-byte", "json", "2k-binary"])
@pytest.mark.parametrize("seed", [SEED, bytes(32), b"\xff" * 32], ids=["range", "zeros", "ones"])
def test_libsodium_and_cryptography_give_the_same_signature_bytes(seed, message, monkeypatch):
    """With PyNaCl (libsodium) and without it (``cryptography``): the same bytes."""
    pytest.importorskip("nacl")
    with_sodium = Signer(Ed25519PrivateKey.from_private_bytes(seed))
    assert with_sodium._sodium is not None  # libsodium signs (the key's form, cached)
    monkeypatch.setattr(_keys, "sodium", lambda: None)
    without = Signer(Ed25519PrivateKey.from_private_bytes(seed))
    assert without._sodium is None  # the fallback: cryptography signs
    expected = without.private_key.sign(message).hex()
    assert with_sodium.sign_message(message) == without.sign_message(message) == expected
    assert with_sodium.sign(7, "ab" * 32) == without.sign(7, "ab" * 32)


@pytest.mark.parametrize("bad", ["", "xyz", "ab" * 31, base64.b64encode(b"short").decode()])
def test_a_bad_seed_says_what_was_expected(bad):
    with pytest.raises(AuditKeyError, match="expected 32 bytes"):
        Signer.from_seed(bad)


def test_key_files_hold_a_seed_or_a_pem_key(tmp_path):
    (tmp_path / "seed").write_text(SEED.hex() + "\n")
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "pem").write_bytes(pem)
    assert Signer.from_file(tmp_path / "seed").public_hex == Signer.from_seed(SEED.hex()).public_hex
    assert Signer.from_file(tmp_path / "pem").key_id
    with pytest.raises(AuditKeyError, match="cannot read the signing key file"):
        Signer.from_file(tmp_path / "missing")


def test_without_a_key_a_dev_key_is_generated_kept_and_announced(tmp_path, caplog):
    settings = AuditSettings(store=StoreSettings(sqlite_path=tmp_path / "p.db"))
    with caplog.at_level(logging.WARNING, logger="proctor.audit"):
        first = settings.signer()
    assert first.dev
    assert "no PROCTOR_AUDIT_SIGNING_KEY set" in caplog.text
    assert (tmp_path / ".proctor-audit-dev.key").stat().st_mode & 0o777 == 0o600
    assert settings.signer().public_hex == first.public_hex
    assert [parse_public_key(first.public_hex).public_bytes_raw()] == [
        k.public_bytes_raw() for k in settings.trusted_keys()
    ]


def test_settings_from_the_environment(tmp_path):
    env = {
        "PROCTOR_AUDIT_SIGNING_KEY": SEED.hex(),
        "PROCTOR_AUDIT_PUBLIC_KEY": f"{Signer.from_seed('11' * 32).public_hex}, ",
        "PROCTOR_AUDIT_CHECKPOINT_EVERY": "50",
        "PROCTOR_AUDIT_CHECKPOINT_SECONDS": "2.5",
    }
    s = AuditSettings.from_env(env)
    assert (s.checkpoint_every, s.checkpoint_seconds) == (50, 2.5)
    assert not s.signer().dev
    assert len(s.trusted_keys()) == 2


def test_the_receipt_salt_kept_is_the_one_of_the_record_asked():
    """The last salt is kept for the receipt that follows its record; any other record id, in
    any order and from many threads at once, still gets its own HMAC."""
    import hashlib
    import hmac
    from concurrent.futures import ThreadPoolExecutor

    signer = Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))

    def fresh(record_id: str) -> bytes:
        return hmac.new(signer._opening_key, record_id.encode(), hashlib.sha256).digest()

    ids = [f"rec_{i % 7}" for i in range(2000)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(signer.receipt_salt, ids))
    assert got == [fresh(i) for i in ids]
    assert signer.receipt_salt("rec_a") == signer.receipt_salt("rec_a") == fresh("rec_a")
    assert signer.receipt_salt("rec_b") != fresh("rec_a")
    assert signer == Signer(signer.private_key)  # the kept salt is not part of its identity
