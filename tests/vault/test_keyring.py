"""Keyrings and keyed digests."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from proctor.audit import mask_value
from proctor.errors import VaultError
from proctor.vault import KeyedDigest, Keyring


def test_a_rotated_ring_keeps_every_key_and_makes_the_new_one_current():
    ring = Keyring.generate()
    rotated = ring.rotated()
    assert set(ring.keys) < set(rotated.keys)
    assert rotated.current not in ring.keys
    assert rotated.key(ring.current) == ring.current_key
    with pytest.raises(VaultError, match="current key"):
        rotated.without(rotated.current)


def test_a_ring_round_trips_through_its_file_readable_by_the_owner_only(tmp_path):
    ring = Keyring.generate().rotated()
    path = tmp_path / "keys.json"
    ring.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    again = Keyring.from_file(path)
    assert (again.keys, again.current) == (ring.keys, ring.current)
    assert base64.b64encode(ring.current_key).decode() not in repr(ring)


def test_an_inline_ring_names_its_current_key_first():
    a, b = b"\x01" * 32, b"\x02" * 32
    ring = Keyring.parse(f"new:{base64.b64encode(a).decode()}, old:{b.hex()}")
    assert ring.current == "new"
    assert ring.key("old") == b


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no keys"),
        ("k1", "not ID:KEY"),
        ("k1:c2hvcnQ=", "32-byte key"),
        ("bad id!:" + "00" * 32, "bad key id"),
    ],
)
def test_bad_inline_rings_say_what_is_wrong(text, why):
    with pytest.raises(VaultError, match=why):
        Keyring.parse(text)


def test_a_broken_keyring_file_is_named(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps({"current": "x", "keys": [{"id": "x", "key": "nope"}]}))
    with pytest.raises(VaultError, match=str(path)):
        Keyring.from_file(path)


def test_the_keyed_digest_cannot_be_recomputed_without_the_key():
    ring = Keyring.generate()
    digest = KeyedDigest.from_keyring(ring)
    amount = 42.5
    plain = mask_value(amount)["sha256"]  # what the audit log keeps today: guessable
    assert plain == hashlib.sha256(b"42.5").hexdigest()
    keyed = digest(amount)
    assert keyed.startswith(f"hmac-sha256:{ring.current}:")
    assert plain not in keyed
    assert digest(amount) == keyed  # equal values, equal digests
    assert KeyedDigest.from_keyring(Keyring.generate())(amount) != keyed
    assert mask_value(amount, digest) == {"type": "number", "hmac": keyed}


def test_the_keyed_digest_hashes_what_the_audit_digest_hashes():
    import hmac

    key = b"\x07" * 32
    value = {"to": "a@example.com", "n": [1, 2]}
    # the same canonical JSON as proctor.audit value_digest, keyed
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == mask_value(value)["sha256"]
    want = hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()
    assert KeyedDigest(key, "d1").hex(value) == want


def test_the_digest_key_comes_from_the_environment():
    assert KeyedDigest.from_env({}) is None
    d = KeyedDigest.from_env({"PROCTOR_DIGEST_KEY": "ab" * 32, "PROCTOR_DIGEST_KEY_ID": "d7"})
    assert d is not None
    assert d("x").startswith("hmac-sha256:d7:")
    with pytest.raises(VaultError):
        KeyedDigest.from_env({"PROCTOR_DIGEST_KEY": "short"})
