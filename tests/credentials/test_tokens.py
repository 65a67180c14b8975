"""Scoped credentials: minted per call, verified by the tool; expired, replayed, out-of-scope
and other-environment credentials are refused; keys rotate."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor import Environment, Session
from proctor.credentials import CredentialSigner, CredentialVerifier, ReplayCache
from proctor.errors import (
    CredentialError,
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


# -- the replay cache (review finding 7) -----------------------------------------------------


def test_a_credential_inside_the_leeway_is_never_accepted_twice(signer):
    verifier = CredentialVerifier("production", signer.public_keys())  # leeway 5 s
    now = time.time()
    late = CredentialSigner("production", signer.keyring, clock=lambda: now - 301.5)
    token = late.mint(_session(), "t", "c", 300)  # expired 1.5 s ago: inside the leeway
    verifier.verify(token, tool="t")
    for i in range(10_001):  # a busy verifier: enough credentials to make the cache prune
        assert verifier.replay.first_use(f"jti-{i}", now + 60)
    with pytest.raises(CredentialReplayedError):
        verifier.verify(token, tool="t")


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 30, allow_nan=False),  # the clock moves by this much
            st.integers(0, 12),  # jti
            st.floats(-5, 40, allow_nan=False),  # expires this long after now
        ),
        max_size=60,
    )
)
def test_a_live_jti_is_refused_and_expired_ones_do_not_pile_up(steps):
    clock = _Clock()
    cache = ReplayCache(clock, max_entries=1_000)
    live: dict[str, float] = {}  # every jti recorded, with the time until which it counts
    for moved, n, ttl in steps:
        clock.now += moved
        jti = f"j{n}"
        first = cache.first_use(jti, clock.now + ttl)
        if jti in live and live[jti] >= clock.now:
            assert not first  # still acceptable by the verifier: a replay
        elif jti not in live:
            assert first
        if first:
            live[jti] = clock.now + ttl
        assert len(cache) == sum(1 for e in live.values() if e >= clock.now)


def test_a_full_replay_cache_refuses_rather_than_forgets():
    clock = _Clock()
    cache = ReplayCache(clock, max_entries=3)
    for i in range(3):
        assert cache.first_use(f"j{i}", clock.now + 10)
    with pytest.raises(CredentialError, match="replay cache is full"):
        cache.first_use("j3", clock.now + 10)
    assert not cache.first_use("j0", clock.now + 10)  # a replay is still a replay
    clock.now += 11  # the three expire: room again
    assert cache.first_use("j3", clock.now + 10)
    assert len(cache) == 1
