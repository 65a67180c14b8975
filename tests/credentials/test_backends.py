"""Secret backends: environment variables and an encrypted file, each keeping environments
apart; references parse strictly."""

from __future__ import annotations

import json

import pytest

from proctor import Environment
from proctor.credentials import EncryptedFileSecretBackend, EnvSecretBackend, SecretRef
from proctor.errors import CredentialError
from proctor.vault import Keyring

P, S = Environment.PRODUCTION, Environment.STAGING


def test_env_backend_reads_the_environments_own_variable():
    env = {
        "PROCTOR_SECRET_PRODUCTION__STRIPE_KEY": "prod-value",
        "PROCTOR_SECRET_STAGING__STRIPE_KEY": "staging-value",
    }
    backend = EnvSecretBackend(env)
    assert backend.get("stripe-key", P) == "prod-value"
    assert backend.get("stripe-key", S) == "staging-value"
    assert backend.get("stripe-key", Environment.DEV) is None


def test_encrypted_file_round_trips_and_keeps_environments_apart(tmp_path):
    path = tmp_path / "secrets.json"
    ring = Keyring.generate()
    backend = EncryptedFileSecretBackend(path, ring)
    backend.put("db-password", P, "prod-pw-value")
    backend.put("db-password", S, "staging-pw-value")
    assert "pw-value" not in path.read_text()
    again = EncryptedFileSecretBackend(path, ring)
    assert again.get("db-password", P) == "prod-pw-value"
    assert again.get("db-password", S) == "staging-pw-value"
    assert again.names() == {"production": ["db-password"], "staging": ["db-password"]}
    again.put("db-password", S, None)
    assert again.get("db-password", S) is None


def test_encrypted_file_rotation_and_the_wrong_key(tmp_path):
    path = tmp_path / "secrets.json"
    ring = Keyring.generate()
    EncryptedFileSecretBackend(path, ring).put("k", P, "v1")
    rotated = EncryptedFileSecretBackend(path, ring.rotated())
    assert rotated.get("k", P) == "v1"  # the old key still decrypts
    rotated.put("k", P, "v2")  # and the next write uses the new one
    assert json.loads(path.read_text())["key_id"] == rotated.keyring.current
    with pytest.raises(CredentialError, match="cannot open the secrets file"):
        EncryptedFileSecretBackend(path, Keyring.generate()).get("k", P)
    with pytest.raises(CredentialError, match="cannot open the secrets file"):
        EncryptedFileSecretBackend(path, ring).get("k", P)  # the new key is not in the old ring


@pytest.mark.parametrize(
    ("text", "name", "env"),
    [
        ("secret://stripe-key", "stripe-key", None),
        ("secret://staging/stripe-key", "stripe-key", S),
    ],
)
def test_references_parse(text, name, env):
    ref = SecretRef.parse(text)
    assert (ref.name, ref.environment) == (name, env)
    assert str(ref) == text


@pytest.mark.parametrize(
    "text", ["stripe-key", "secret://", "secret://qa/x", "secret://Stripe", "https://x/y"]
)
def test_bad_references_are_refused(text):
    with pytest.raises(CredentialError, match="not a secret reference"):
        SecretRef.parse(text)
