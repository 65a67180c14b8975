"""Credentials inside the gate: a scoped credential per call that the tool verifies; secrets
by reference, resolved at execution time, never in the model's context or the audit log;
environment separation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from proctor import Gate, OutcomeStatus, load_policy_text
from proctor.audit import AuditHook, AuditLog, AuditSettings
from proctor.credentials import (
    CredentialBroker,
    CredentialSigner,
    CredentialVerifier,
    EnvSecretBackend,
    call_context,
)
from proctor.errors import CredentialError, CredentialReplayedError
from proctor.store import StoreSettings

POLICY = """
version: 1
agent: {name: billing-bot, role: svc-billing, owner: billing@example.test}
environments:
  production: {max_autonomy: write}
  staging: {max_autonomy: write}
tools:
  payments.charge:
    autonomy: write
    args: {customer: string}
  payments.debug:
    autonomy: read
    args: {}
  reports.fetch:
    autonomy: read
    args: {}
credentials:
  ttl_minutes: 2
  tools:
    payments.charge:
      secrets: {api_key: "secret://stripe-key"}
    payments.debug:
      secrets: {api_key: "secret://stripe-key"}
"""


def _key() -> str:
    return "sk" + "_live_" + "Q7w" * 9  # assembled at run time


@pytest.fixture
def env() -> dict[str, str]:
    return {
        "PROCTOR_SECRET_PRODUCTION__STRIPE_KEY": _key(),
        "PROCTOR_SECRET_STAGING__STRIPE_KEY": "sk" + "_test_" + "Z4x" * 9,
    }


@pytest.fixture
def signer() -> CredentialSigner:
    return CredentialSigner.generate("production")


@pytest.fixture
def gate(env, signer) -> Iterator[Gate]:
    broker = CredentialBroker("production", backend=EnvSecretBackend(env), signer=signer)
    g = Gate(load_policy_text(POLICY), credentials=broker)
    yield g
    g.close()


def test_each_call_gets_a_scoped_credential_the_tool_verifies(gate, signer):
    verifier = CredentialVerifier("production", signer.public_keys())
    seen: list = []

    @gate.tool("payments.charge")
    def charge(customer: str) -> str:
        ctx = call_context()
        claims = verifier.verify(ctx.token or "", tool="payments.charge", tenant=ctx.tenant)
        seen.append((claims, ctx.secret("api_key")))
        with pytest.raises(CredentialReplayedError):  # good for one use
            verifier.verify(ctx.token or "", tool="payments.charge")
        return "charged"

    session = gate.open_session("billing-bot", principal="u:1", tenant="acme")
    assert gate.call(session, "payments.charge", {"customer": "C-1"}).ok
    assert gate.call(session, "payments.charge", {"customer": "C-2"}).ok
    (c1, key1), (c2, key2) = seen
    assert key1 == key2 == _key()
    assert c1.jti != c2.jti
    assert c1.session_id == session.id
    assert c1.tenant == "acme"
    assert c1.expires_at - c1.issued_at == 120
    with pytest.raises(CredentialError, match="no gated call"):
        call_context()


def test_async_tools_get_their_context_too(gate):
    @gate.tool("reports.fetch")
    async def fetch() -> str:
        return call_context().tool

    session = gate.open_session("billing-bot", principal="u:1", tenant="acme")
    out = asyncio.run(gate.acall(session, "reports.fetch", {}))
    assert out.result == "reports.fetch"


def test_a_secret_the_tool_echoes_is_masked_before_the_model_and_the_audit(env, signer, tmp_path):
    log = AuditLog.open(
        AuditSettings(store=StoreSettings(sqlite_path=tmp_path / "a.db"), signing_key="5e" * 32)
    )
    broker = CredentialBroker("production", backend=EnvSecretBackend(env), signer=signer)
    gate = Gate(load_policy_text(POLICY), credentials=broker, hooks=[AuditHook(log)])
    try:

        @gate.tool("payments.debug")
        def debug() -> dict:
            ctx = call_context()
            # a tool that echoes its configuration, its key in a field with no telling name
            # and its credential, then fails quoting the key
            return {"config": f"using {ctx.secret('api_key')}", "auth": ctx.token, "x": "ok"}

        session = gate.open_session("billing-bot", principal="u:1", tenant="acme")
        out = gate.call(session, "payments.debug", {})
        assert out.ok
        said = repr(out.result)
        assert _key() not in said
        assert "eyJ" not in said.replace("eyJ****", "")
        labeled_texts = [p.text for c in gate._sync(gate.flow.contents(session)) for p in c.pieces]
        assert not any(_key() in t for t in labeled_texts)
        everything = "\n".join(r.as_json() for r in log.records())
        assert _key() not in everything
    finally:
        gate.close()
        log.close()


def test_a_tools_error_quoting_its_secret_is_redacted(gate):
    @gate.tool("payments.debug")
    def debug() -> str:
        raise RuntimeError(f"auth failed for {call_context().secret('api_key')}")

    session = gate.open_session("billing-bot", principal="u:1", tenant="acme")
    out = gate.call(session, "payments.debug", {})
    assert out.status is OutcomeStatus.FAILED
    assert "auth failed" in out.error
    assert _key() not in out.error


def test_a_production_gate_refuses_a_staging_session(gate):
    ran: list[str] = []

    @gate.tool("payments.charge")
    def charge(customer: str) -> str:
        ran.append(customer)
        return "charged"

    staging = gate.open_session(
        "billing-bot", principal="u:1", tenant="acme", environment="staging"
    )
    out = gate.call(staging, "payments.charge", {"customer": "C-1"})
    assert out.status is OutcomeStatus.DENIED
    assert ran == []
    assert "runs in production" in out.error


def test_a_production_gate_refuses_a_staging_secret_reference(env, signer):
    policy = POLICY.replace(
        '"secret://stripe-key"}\n    payments.debug',
        '"secret://staging/stripe-key"}\n    payments.debug',
    )
    broker = CredentialBroker("production", backend=EnvSecretBackend(env), signer=signer)
    gate = Gate(load_policy_text(policy), credentials=broker)
    try:

        @gate.tool("payments.charge")
        def charge(customer: str) -> str:
            return call_context().secret("api_key")

        session = gate.open_session("billing-bot", principal="u:1", tenant="acme")
        out = gate.call(session, "payments.charge", {"customer": "C-1"})
        assert out.status is OutcomeStatus.DENIED
        assert "belongs to staging" in out.error
    finally:
        gate.close()


def test_a_staging_gate_resolves_staging_secrets_only(env):
    broker = CredentialBroker("staging", backend=EnvSecretBackend(env))
    gate = Gate(load_policy_text(POLICY), credentials=broker)
    try:

        @gate.tool("payments.charge")
        def charge(customer: str) -> str:
            return "key ends " + call_context().secret("api_key")[-3:]

        staging = gate.open_session(
            "billing-bot", principal="u:1", tenant="acme", environment="staging"
        )
        assert gate.call(staging, "payments.charge", {"customer": "C"}).result == "key ends Z4x"
        prod = gate.open_session("billing-bot", principal="u:1", tenant="acme")
        assert gate.call(prod, "payments.charge", {"customer": "C"}).status is OutcomeStatus.DENIED
    finally:
        gate.close()


def test_a_missing_secret_or_broker_refuses_the_call():
    gate = Gate(load_policy_text(POLICY))  # no broker, but the policy gives the tool secrets
    try:

        @gate.tool("payments.charge")
        def charge(customer: str) -> str:
            return "charged"

        @gate.tool("reports.fetch")
        def fetch() -> str:
            return call_context().tool

        session = gate.open_session("billing-bot", principal="u:1", tenant="acme")
        out = gate.call(session, "payments.charge", {"customer": "C"})
        assert out.status is OutcomeStatus.DENIED
        assert "no credential broker" in out.error
        assert gate.call(session, "reports.fetch", {}).result == "reports.fetch"
    finally:
        gate.close()
    empty = Gate(
        load_policy_text(POLICY),
        credentials=CredentialBroker("production", backend=EnvSecretBackend({})),
    )
    try:

        @empty.tool("payments.charge")
        def charge2(customer: str) -> str:
            return "charged"

        session = empty.open_session("billing-bot", principal="u:1", tenant="acme")
        out = empty.call(session, "payments.charge", {"customer": "C"})
        assert out.status is OutcomeStatus.DENIED
        assert "does not resolve" in out.error
    finally:
        empty.close()
