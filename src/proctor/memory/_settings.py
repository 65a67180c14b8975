"""Open the memory a deployment's settings describe (the CLI's way in)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from proctor.audit import AuditLog, AuditSettings
from proctor.memory._memory import Memory
from proctor.memory._onnx import OnnxMiniLMEmbedder
from proctor.policy import PolicySet
from proctor.store import StoreSettings, create_store_engine, migrate
from proctor.types import Embedder
from proctor.vault import KeyedDigest, Keyring, SqlVaultStore, Vault, VaultSettings

MINILM_PATH_ENV = "PROCTOR_MEMORY_MINILM_PATH"


def open_memory(
    store: StoreSettings | None = None,
    *,
    policies: PolicySet | None = None,
    audited: bool = True,
    environ: Mapping[str, str] | None = None,
    embedder: Embedder | None = None,
) -> Memory:
    """The SQL-backed memory of ``store`` (``StoreSettings.from_env()`` by default), schema
    migrated. Its digest key is ``PROCTOR_DIGEST_KEY`` or derived from the vault's keyring,
    as the gate's data access controls derive theirs; its vault and audit log (unless
    ``audited`` is false) are the deployment's, in the same store. ``embedder``: for vector
    search; None: ``embedder_from_env`` (``PROCTOR_MEMORY_MINILM_PATH``), else none."""
    embedder = embedder if embedder is not None else embedder_from_env(environ)
    store = store if store is not None else StoreSettings.from_env(environ)
    engine = create_store_engine(store)
    migrate(engine)
    ring = _keyring(store, environ)
    digest = KeyedDigest.from_env(environ) or KeyedDigest.from_keyring(ring)
    audit = None
    if audited:
        a = AuditSettings.from_env(environ)
        audit = AuditLog.open(
            AuditSettings(
                store=store,
                signing_key=a.signing_key,
                signing_key_file=a.signing_key_file,
                public_keys=a.public_keys,
                checkpoint_every=a.checkpoint_every,
                checkpoint_seconds=a.checkpoint_seconds,
            ),
            migrate_schema=False,
        )
    vault = Vault(SqlVaultStore(engine), ring)
    return Memory(
        engine, digest=digest, policies=policies, audit=audit, vault=vault, embedder=embedder
    )


def _keyring(store: StoreSettings, environ: Mapping[str, str] | None) -> Keyring:
    base = VaultSettings.from_env(environ)
    return VaultSettings(store=store, keyring_file=base.keyring_file, keys=base.keys).keyring()


def deployment_digest(
    store: StoreSettings, environ: Mapping[str, str] | None = None
) -> KeyedDigest:
    """The key memory's fingerprints are digested under: ``PROCTOR_DIGEST_KEY``, else derived
    from the vault's keyring (``open_memory``'s rule: the CLI and every gateway agree)."""
    return KeyedDigest.from_env(environ) or KeyedDigest.from_keyring(_keyring(store, environ))


def embedder_from_env(environ: Mapping[str, str] | None = None) -> Embedder | None:
    """The MiniLM embedder of the model directory ``PROCTOR_MEMORY_MINILM_PATH`` names (None
    if unset). Set but unusable (no model there, onnxruntime missing): ``MemoryVectorError``,
    never a silent start without vector search."""
    env = os.environ if environ is None else environ
    path = env.get(MINILM_PATH_ENV, "").strip()
    return OnnxMiniLMEmbedder(path) if path else None
