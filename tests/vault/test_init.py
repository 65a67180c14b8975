"""The public names of ``proctor.vault`` and ``proctor.credentials`` are what ``__all__`` says."""

from __future__ import annotations

import proctor.credentials
import proctor.vault


def test_vault_public_names():
    assert sorted(proctor.vault.__all__) == sorted(
        [
            "DEFAULT_FORMS",
            "TOKEN",
            "DataAccess",
            "DataClass",
            "DataReport",
            "Detokenization",
            "Detokenized",
            "Drop",
            "FieldRead",
            "Form",
            "KeyedDigest",
            "Keyring",
            "Match",
            "MemoryVaultStore",
            "PiiScanner",
            "PresidioDetector",
            "Rules",
            "SecretDetector",
            "SecretRule",
            "SqlVaultStore",
            "TextScanner",
            "TokenBatch",
            "TokenRow",
            "ValueDetector",
            "Vault",
            "VaultSettings",
            "VaultStore",
            "View",
            "iban_valid",
            "infer_kind",
            "luhn_valid",
            "mask",
            "open_vault",
        ]
    )
    assert all(hasattr(proctor.vault, n) for n in proctor.vault.__all__)


def test_credentials_public_names():
    assert sorted(proctor.credentials.__all__) == [
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
    assert all(hasattr(proctor.credentials, n) for n in proctor.credentials.__all__)
