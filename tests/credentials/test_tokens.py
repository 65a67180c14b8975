"""Scoped credentials: minted per call, verified by the tool; expired, replayed, out-of-scope
and other-environment credentials are refused; keys rotate."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from proctor import Environment, Session
from proctor.credentials import CredentialSigner, CredentialVerifier
from proctor.errors import (
    CredentialExpiredError,
    CredentialReplayedError,
    CredentialScopeError,
    EnvironmentMismatchError,
)


def _session(env: str = "production", tenant: str = "acme") -> Session:
    return Session(agent="bot", principal="u:1", tenant=tenant, environment=Environment(env))


@pytest.fixture
def signer() -> CredentialSigner:
    return CredentialSigner.generate("production")


@pytest.fixture
def verifier(signer: CredentialSigner) -> CredentialVerifier:
    return CredentialVerifier("production", signer.public_keys())


def test_a_credential_verifies_once_with_its_scope(signer, verifier):
    s = _session()
    token = signer.mint(s, "payments.refund", "call_1", 300)
    claims = verifier.verify(token, tool="payments.refund", session_id=s.id, tenant="acme")
    assert (claims.tool, claims.session_id, claims.tenant, claims.environment) == (
        "payments.refund",
        s.id,
        "acme",
        Environment.PRODUCTION,
    )
    assert claims.expires_at - claims.issued_at == 300
    assert claims.call_id == "call_1"
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


def test_an_expired_credential_is_refused(signer, verifier):
    now = [1_000_000.0]
    old = CredentialSigner("production", signer.keyring, clock=lambda: now[0])
    token = old.mint(_session(), "t", "c", 300)  # minted with a clock decades ago
    with pytest.raises(CredentialExpiredError):
        verifier.verify(token, tool="t")


def test_a_replayed_credential_is_refused(signer, verifier):
    token = signer.mint(_session(), "t", "c", 300)
    verifier.verify(token, tool="t")
    with pytest.raises(CredentialReplayedError):
        verifier.verify(token, tool="t")


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"tool": "other.tool"}, "not for tool"),
        ({"tool": "t", "session_id": "ses_other"}, "another session"),
        ({"tool": "t", "tenant": "globex"}, "another tenant"),
    ],
)
def test_an_out_of_scope_credential_is_refused(signer, verifier, kwargs, why):
    token = signer.mint(_session(), "t", "c", 300)
    with pytest.raises(CredentialScopeError, match=why):
        verifier.verify(token, **kwargs)


def test_another_environments_credential_is_refused(signer):
    staging = CredentialSigner.generate("staging")
    token = staging.mint(_session("staging"), "t", "c", 300)
    prod = CredentialVerifier("production", signer.public_keys())
    with pytest.raises(EnvironmentMismatchError, match="staging"):
        prod.verify(token, tool="t")
    # even a verifier misconfigured to trust the staging key refuses by the env claim
    shared = CredentialVerifier("production", {**signer.public_keys(), **staging.public_keys()})
    with pytest.raises(EnvironmentMismatchError):
        shared.verify(token, tool="t")


def test_a_signer_refuses_a_session_of_another_environment(signer):
    with pytest.raises(EnvironmentMismatchError):
        signer.mint(_session("dev"), "t", "c", 300)


def test_keys_rotate_old_credentials_still_verify_new_ones_use_the_new_key(signer):
    before = signer.mint(_session(), "t", "c1", 300)
    old_kid = signer.keyring.current
    new_kid = signer.rotate()
    after = signer.mint(_session(), "t", "c2", 300)
    assert jwt.get_unverified_header(after)["kid"] == new_kid != old_kid
    v = CredentialVerifier("production", signer.public_keys())
    assert v.verify(before, tool="t").key_id == old_kid
    assert v.verify(after, tool="t").key_id == new_kid
    retired = CredentialVerifier("production", {new_kid: signer.public_keys()[new_kid]})
    with pytest.raises(CredentialScopeError, match="unknown key"):
        retired.verify(before, tool="t")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_and_malformed_credentials_are_refused(signer, verifier):
    token = signer.mint(_session(), "t", "c", 300)
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    kid = jwt.get_unverified_header(token)["kid"]
    forged = ".".join([head, _b64({**claims, "tenant": "globex"}), sig])  # edited claims
    unsigned = ".".join([_b64({"alg": "none", "kid": kid}), body, ""])
    hmac_confusion = jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": kid})
    for bad in (forged, unsigned, hmac_confusion, "not.a.token", ""):
        with pytest.raises(CredentialScopeError):
            verifier.verify(bad, tool="t")
