"""Credentials: secrets by reference, and a short-lived scoped credential per call.

Policies and tools name secrets (``secret://stripe-key``); the gate resolves them at execution
time from a ``SecretBackend`` (environment variables, an encrypted file, or your own) and hands
them to the tool through ``call_context()``: never through the model. Per call, the gate's
``CredentialBroker`` mints an EdDSA JWT scoped to (tool, session, tenant, environment) with a
TTL of minutes; the tool checks it with a ``CredentialVerifier``.
"""

from __future__ import annotations

from proctor.credentials._backends import (
    EncryptedFileSecretBackend,
    EnvSecretBackend,
    SecretBackend,
)
from proctor.credentials._broker import CredentialBroker
from proctor.credentials._context import CallContext, call_context
from proctor.credentials._refs import SecretRef
from proctor.credentials._tokens import Claims, CredentialSigner, CredentialVerifier, ReplayCache

__all__ = [
    "CallContext",
    "Claims",
    "CredentialBroker",
    "CredentialSigner",
    "CredentialVerifier",
    "EncryptedFileSecretBackend",
    "EnvSecretBackend",
    "ReplayCache",
    "SecretBackend",
    "SecretRef",
    "call_context",
]
