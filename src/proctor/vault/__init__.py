"""Data access controls: data classes, masking, the tokenization vault, PII and secret
detection.

``DataAccess`` is what the gate runs on every ingest (the model's view of content) and at
execution (detokenizing a tool's arguments). ``Vault`` keeps tokens, sealed with AES-256-GCM
under a rotating ``Keyring``. ``TextScanner`` finds secrets (our patterns and detect-secrets')
and PII (Presidio's regex recognizers, with ``proctor[pii]``). ``KeyedDigest`` is the HMAC that
replaces bare SHA-256 digests where a value may be guessed.
"""

from __future__ import annotations

from proctor.vault._access import DataAccess, Detokenization
from proctor.vault._classes import DEFAULT_FORMS, DataClass, Form
from proctor.vault._detector import Match, SecretDetector, SecretRule, ValueDetector
from proctor.vault._digest import KeyedDigest
from proctor.vault._keyring import Keyring
from proctor.vault._mask import infer_kind, mask
from proctor.vault._pii import PiiScanner, PresidioDetector
from proctor.vault._report import DataReport, Drop, FieldRead
from proctor.vault._rules import Rules
from proctor.vault._scan import TextScanner
from proctor.vault._settings import VaultSettings, open_vault
from proctor.vault._store import MemoryVaultStore, SqlVaultStore, TokenRow, VaultStore
from proctor.vault._validators import iban_valid, luhn_valid
from proctor.vault._vault import TOKEN, Detokenized, TokenBatch, Vault
from proctor.vault._view import View

__all__ = [
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
