"""The tokenization vault: reversible tokens (``tok_email_7f3a…``) for sensitive values.

A token is scoped to one tenant and one session. It is derived, not drawn: the HMAC of
(tenant, session, kind, value) under a key of the ring, so the same value in the same session
gets the same token (the model can tell two mentions apart or together), and a different one
in any other session. The value is sealed with AES-256-GCM under the current key, with the
token and its scope as associated data. ``detokenize`` answers only in the token's own tenant
and session, and says the same thing for "unknown" and "someone else's": no oracle.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from proctor.errors import VaultError
from proctor.vault._classes import DataClass
from proctor.vault._keyring import Keyring
from proctor.vault._store import MemoryVaultStore, TokenRow, VaultStore

TOKEN = re.compile(r"\btok_([a-z][a-z0-9]{0,15})_([0-9a-f]{32})\b")
NONCE = 12
_CACHE = 65_536


@dataclass(frozen=True, slots=True)
class Detokenized:
    """A token's value and what it is."""

    token: str
    value: str
    kind: str
    data_class: DataClass


def _aad(token: str, tenant: str, session_id: str, kind: str, data_class: str) -> bytes:
    return "\x00".join((token, tenant, session_id, kind, data_class)).encode()


@dataclass(frozen=True, slots=True)
class _Keys:
    """A ring and what is derived from it, built whole before it is published: a reader takes
    the one reference once, so a rotation never pairs the new ring with the old ciphers."""

    ring: Keyring
    id_key: bytes
    aead: Mapping[str, AESGCM]

    @classmethod
    def of(cls, ring: Keyring) -> _Keys:
        aead = MappingProxyType({kid: AESGCM(key) for kid, key in ring.keys.items()})
        return cls(ring, ring.derive("vault-token-id"), aead)


class Vault:
    """Tokenizes and detokenizes values, scoped to (tenant, session). Thread-safe."""

    def __init__(
        self,
        store: VaultStore,
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
        cache_size: int = _CACHE,
    ) -> None:
        self.store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, TokenRow] = OrderedDict()  # sealed rows, never values
        self._cache_size = cache_size
        self.keyring = keyring

    @classmethod
    def ephemeral(cls) -> Vault:
        """An in-memory vault with a random key: tokens live as long as the process."""
        return cls(MemoryVaultStore(), Keyring.generate())

    @property
    def keyring(self) -> Keyring:
        return self._keys.ring

    @keyring.setter
    def keyring(self, ring: Keyring) -> None:
        """Swap the ring (after a rotation): new tokens use its current key; every key in it
        still decrypts. One reference is replaced (atomic): a seal or detokenize running
        meanwhile uses the old ring and its ciphers, or the new ones, never a mix."""
        self._keys = _Keys.of(ring)

    @property
    def blocking(self) -> bool:
        return self.store.blocking

    # -- tokenizing ---------------------------------------------------------------------------

    def token_for(self, tenant: str, session_id: str, kind: str, value: str) -> str:
        """The token ``value`` gets in this scope (nothing is stored)."""
        msg = "\x00".join((tenant, session_id, kind, value)).encode("utf-8", "surrogatepass")
        return f"tok_{kind}_{hmac.new(self._keys.id_key, msg, hashlib.sha256).hexdigest()[:32]}"

    def _seal(
        self, token: str, tenant: str, session_id: str, kind: str, data_class: str, value: str
    ) -> TokenRow:
        keys = self._keys  # read once: the ring and its ciphers belong together
        current = keys.ring.current
        nonce = secrets.token_bytes(NONCE)
        aad = _aad(token, tenant, session_id, kind, data_class)
        sealed = nonce + keys.aead[current].encrypt(nonce, value.encode(), aad)
        return TokenRow(token, tenant, session_id, kind, data_class, current, sealed, self._clock())

    @contextmanager
    def batch(self, tenant: str, session_id: str) -> Iterator[TokenBatch]:
        """Tokenize many values, stored in one write when the block ends (before any token
        leaves it)."""
        b = TokenBatch(self, tenant, session_id)
        yield b
        b.flush()

    def tokenize(
        self, tenant: str, session_id: str, kind: str, data_class: DataClass, value: str
    ) -> str:
        with self.batch(tenant, session_id) as b:
            return b.tokenize(kind, data_class, value)

    def _store_rows(self, rows: Sequence[TokenRow]) -> None:
        if rows:
            self.store.put_many(rows)
            self._remember(rows)

    def _remember(self, rows: Sequence[TokenRow]) -> None:
        with self._lock:
            for r in rows:
                self._cache[r.token] = r
                self._cache.move_to_end(r.token)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _known(self, token: str) -> bool:
        with self._lock:
            return token in self._cache

    # -- detokenizing -------------------------------------------------------------------------

    def detokenize(self, token: str, *, tenant: str, session_id: str) -> Detokenized:
        """The value behind ``token``, if it was minted in this tenant and session. Raises
        ``VaultError`` otherwise, with the same message whether it is unknown or not ours."""
        with self._lock:
            row = self._cache.get(token)
        if row is None:
            row = self.store.get(token)
            if row is not None:
                self._remember([row])
        if row is None or row.tenant != tenant or row.session_id != session_id:
            raise VaultError(f"token {token[:14]}… does not detokenize in this session")
        aead = self._keys.aead.get(row.key_id)
        if aead is None:
            raise VaultError(f"token {token[:14]}…: its key {row.key_id!r} is not in the ring")
        sealed = row.sealed
        aad = _aad(row.token, row.tenant, row.session_id, row.kind, row.data_class)
        try:
            value = aead.decrypt(sealed[:NONCE], sealed[NONCE:], aad).decode()
        except (InvalidTag, UnicodeDecodeError):
            raise VaultError(f"token {token[:14]}… does not decrypt (tampered row?)") from None
        return Detokenized(token, value, row.kind, DataClass(row.data_class))

    # -- keys ---------------------------------------------------------------------------------

    def reencrypt(self, *, batch: int = 500) -> int:
        """Reseal every row not under the current key with it; return how many. Afterwards the
        old keys can be retired from the ring."""
        moved = 0
        while True:
            old = self.store.not_under(self._keys.ring.current, batch)
            if not old:
                return moved
            fresh = []
            for row in old:
                clear = self.detokenize(row.token, tenant=row.tenant, session_id=row.session_id)
                sealed = self._seal(
                    row.token, row.tenant, row.session_id, row.kind, row.data_class, clear.value
                )
                fresh.append(replace(sealed, created_at=row.created_at))
            self.store.reseal(fresh)
            self._remember(fresh)
            moved += len(fresh)


class TokenBatch:
    """Tokens minted now, stored together by ``flush`` (``Vault.batch`` calls it)."""

    def __init__(self, vault: Vault, tenant: str, session_id: str) -> None:
        self.vault, self.tenant, self.session_id = vault, tenant, session_id
        self._pending: dict[str, TokenRow] = {}

    def tokenize(self, kind: str, data_class: DataClass, value: str) -> str:
        token = self.vault.token_for(self.tenant, self.session_id, kind, value)
        if token not in self._pending and not self.vault._known(token):
            self._pending[token] = self.vault._seal(
                token, self.tenant, self.session_id, kind, str(data_class), value
            )
        return token

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        rows = list(self._pending.values())
        self._pending.clear()
        self.vault._store_rows(rows)
