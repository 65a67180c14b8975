"""Short-lived scoped credentials: an EdDSA (Ed25519) JWT per call, minted by the gate,
verified by the tool.

Claims: ``iss`` proctor, ``aud`` ``tool:NAME``, ``sid`` (session), ``tenant``, ``env``,
``agent``, ``call``, ``iat``/``nbf``/``exp`` (a TTL of minutes) and a random ``jti``. The
header's ``kid`` names the signing key, so keys rotate: new tokens are signed with the new key
while verifiers still hold the old public key until the last old token has expired.

PyJWT encodes and checks the JWS (signature, ``exp``, ``nbf``, ``aud``, ``iss``, and the
algorithm pinned to EdDSA, so that no ``alg: none`` or HMAC-with-the-public-key confusion is
possible); this module adds what PyJWT does not know: the key ring, the environment, the scope
of session and tenant, and single use (a replay cache keyed by ``jti``).
"""

from __future__ import annotations

import heapq
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from proctor.errors import (
    CredentialError,
    CredentialExpiredError,
    CredentialReplayedError,
    CredentialScopeError,
    EnvironmentMismatchError,
)
from proctor.model import Environment, Session
from proctor.vault import Keyring

ISSUER = "proctor"
ALGORITHM = "EdDSA"
_REQUIRED = ["iss", "aud", "exp", "nbf", "iat", "jti", "sid", "tenant", "env"]


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified credential says."""

    tool: str
    session_id: str
    tenant: str
    environment: Environment
    agent: str
    call_id: str
    jti: str
    issued_at: int
    expires_at: int
    key_id: str


class CredentialSigner:
    """Mints credentials for one environment with the current key of an Ed25519 keyring (the
    keys are 32-byte seeds)."""

    def __init__(
        self,
        environment: Environment | str,
        keyring: Keyring,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.environment = Environment(environment)
        self._clock = clock
        self.keyring = keyring

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    @keyring.setter
    def keyring(self, ring: Keyring) -> None:
        self._keyring = ring
        self._private = {
            kid: Ed25519PrivateKey.from_private_bytes(seed) for kid, seed in ring.keys.items()
        }

    @classmethod
    def generate(cls, environment: Environment | str) -> CredentialSigner:
        return cls(environment, Keyring.generate())

    def rotate(self) -> str:
        """Sign from now on with a new key; the old public keys stay published. Returns the
        new key id."""
        self.keyring = self._keyring.rotated()
        return self._keyring.current

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every key id and its public key: what a verifier trusts."""
        return {kid: key.public_key() for kid, key in self._private.items()}

    def mint(self, session: Session, tool: str, call_id: str, ttl_seconds: int) -> str:
        """A credential for one call of ``tool`` in ``session``. Refuses a session of another
        environment."""
        if session.environment is not self.environment:
            raise EnvironmentMismatchError(
                f"this gate mints {self.environment} credentials; the session is "
                f"{session.environment}"
            )
        now = int(self._clock())
        claims = {
            "iss": ISSUER,
            "aud": f"tool:{tool}",
            "sub": session.agent,
            "agent": session.agent,
            "sid": session.id,
            "tenant": session.tenant,
            "env": str(self.environment),
            "call": call_id,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": secrets.token_urlsafe(16),
        }
        kid = self._keyring.current
        return jwt.encode(claims, self._private[kid], algorithm=ALGORITHM, headers={"kid": kid})


class ReplayCache:
    """The ``jti`` of every credential presented, for as long as a verifier would accept it.
    In memory: one verifier process (a shared store is needed when a tool runs behind several
    replicas).

    Entries leave in order of expiry (a heap beside the dict: each call pops what has
    expired, never rebuilds the dict). At ``max_entries`` live entries the cache refuses new
    credentials (``CredentialError``) rather than forget one that could still be replayed."""

    def __init__(
        self, clock: Callable[[], float] = time.time, *, max_entries: int = 100_000
    ) -> None:
        self._seen: dict[str, float] = {}
        self._expiry: list[tuple[float, str]] = []  # a heap of (until, jti)
        self._lock = threading.Lock()
        self._clock = clock
        self.max_entries = max_entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def first_use(self, jti: str, until: float) -> bool:
        """Record ``jti``, remembered until ``until`` (the last moment a verifier would accept
        the credential: its expiry plus the verifier's leeway); False if it was already
        recorded (a replay). Raises ``CredentialError`` when the cache is full of live
        entries (fail closed)."""
        now = self._clock()
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                gone, old = heapq.heappop(self._expiry)
                if self._seen.get(old) == gone:
                    del self._seen[old]
            if jti in self._seen:
                return False
            if until < now:  # past its last moment: a verifier refuses it anyway
                return True
            if len(self._seen) >= self.max_entries:
                raise CredentialError(
                    f"replay cache is full ({self.max_entries} live credentials); refusing "
                    "this one rather than forgetting one that could be replayed"
                )
            self._seen[jti] = until
            heapq.heappush(self._expiry, (until, jti))
            return True


class CredentialVerifier:
    """What a tool runs on the credential it is handed. Trusts ``public_keys`` (by key id) for
    one ``environment``; each credential is good for one use."""

    def __init__(
        self,
        environment: Environment | str,
        public_keys: Mapping[str, Ed25519PublicKey],
        *,
        replay: ReplayCache | None = None,
        leeway_seconds: int = 5,
    ) -> None:
        self.environment = Environment(environment)
        self.public_keys = dict(public_keys)
        self.replay = replay if replay is not None else ReplayCache()
        self.leeway = leeway_seconds

    def verify(
        self,
        token: str,
        *,
        tool: str,
        session_id: str | None = None,
        tenant: str | None = None,
    ) -> Claims:
        """The credential's claims, if it is ours, for ``tool`` (and the session and tenant
        when given), in this environment, unexpired and presented for the first time.
        Raises a ``CredentialError`` subclass naming what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise CredentialScopeError("not a credential (malformed token)") from None
        if header.get("alg") != ALGORITHM:
            raise CredentialScopeError(f"credential algorithm {header.get('alg')!r} refused")
        kid = str(header.get("kid", ""))
        key = self.public_keys.get(kid)
        if key is None:
            self._refuse_environment(token)
            raise CredentialScopeError(f"credential signed by an unknown key {kid!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=f"tool:{tool}",
                issuer=ISSUER,
                leeway=self.leeway,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError:
            raise CredentialExpiredError("credential expired") from None
        except jwt.InvalidAudienceError:
            raise CredentialScopeError(f"credential is not for tool {tool!r}") from None
        except jwt.InvalidTokenError as exc:
            raise CredentialScopeError(f"credential refused: {exc}") from None
        if claims["env"] != str(self.environment):
            raise EnvironmentMismatchError(
                f"credential minted for {claims['env']}; this is {self.environment}"
            )
        if session_id is not None and claims["sid"] != session_id:
            raise CredentialScopeError("credential is for another session")
        if tenant is not None and claims["tenant"] != tenant:
            raise CredentialScopeError("credential is for another tenant")
        until = float(claims["exp"]) + self.leeway  # PyJWT accepts it until then
        if not self.replay.first_use(str(claims["jti"]), until):
            raise CredentialReplayedError("credential already used (replay)")
        return Claims(
            tool,
            str(claims["sid"]),
            str(claims["tenant"]),
            Environment(claims["env"]),
            str(claims.get("agent", "")),
            str(claims.get("call", "")),
            str(claims["jti"]),
            int(claims["iat"]),
            int(claims["exp"]),
            kid,
        )

    def _refuse_environment(self, token: str) -> None:
        """A key we do not know may be another environment's: say so if the token says so."""
        try:
            env = jwt.decode(token, options={"verify_signature": False}).get("env")
        except jwt.InvalidTokenError:
            return
        if isinstance(env, str) and env != str(self.environment):
            raise EnvironmentMismatchError(
                f"credential minted for {env}, signed by a key this {self.environment} "
                "verifier does not trust"
            )
