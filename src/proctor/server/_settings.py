"""Gateway settings: where the policies, the store and Redis are, and the limits it enforces."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from proctor.audit import AuditSettings
from proctor.errors import GatewayConfigError


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise GatewayConfigError(f"{name}: expected a number, got {raw!r}") from None


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    """Everything ``proctor serve`` needs.

    ``redis_url`` (``PROCTOR_REDIS_URL``): rate limits, pause flags and hot session state shared
    by every gateway process; unset, they live in this process (run one process then).
    ``redis_prefix`` (``PROCTOR_REDIS_PREFIX``): the keys' prefix, for several deployments in
    one Redis.
    ``max_body_bytes``: larger requests get 413. ``key_rate``/``key_burst``: requests per
    second per key (a token bucket; 429 past it). ``max_wait_seconds``: the longest
    ``approvals/ID/wait``. ``auth_cache_seconds``: how long an authenticated key is trusted
    before the registry is read again (a disabled key stops working within it).
    ``pause_cache_seconds``: with Redis, how stale the kill switch may be when it was flipped
    outside the gateway (the gateway's own pause and resume take effect at once).
    """

    policy: Path
    audit: AuditSettings = field(default_factory=AuditSettings)
    redis_url: str | None = None
    redis_prefix: str = "proctor:"
    host: str = "127.0.0.1"
    port: int = 8700
    max_body_bytes: int = 1_000_000
    key_rate: float = 200.0
    key_burst: int = 400
    max_wait_seconds: float = 60.0
    auth_cache_seconds: float = 2.0
    pause_cache_seconds: float = 0.5
    session_cache: int = 100_000

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1024:
            raise GatewayConfigError(f"max_body_bytes must be >= 1024, got {self.max_body_bytes}")
        if self.key_rate <= 0 or self.key_burst < 1:
            raise GatewayConfigError("key_rate must be > 0 and key_burst >= 1")
        if not 0 < self.max_wait_seconds <= 3600:
            raise GatewayConfigError("max_wait_seconds must be in (0, 3600]")
        if not 0 <= self.auth_cache_seconds <= 60:
            raise GatewayConfigError("auth_cache_seconds must be in [0, 60]")
        if not 0 <= self.pause_cache_seconds <= 1:
            raise GatewayConfigError(
                "pause_cache_seconds must be in [0, 1]: a pause must hold everywhere within a "
                "second"
            )

    @classmethod
    def from_env(
        cls, policy: str | Path, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> GatewaySettings:
        """``PROCTOR_REDIS_URL``, ``PROCTOR_GATEWAY_MAX_BODY_BYTES``, ``PROCTOR_GATEWAY_KEY_RATE``,
        ``PROCTOR_GATEWAY_KEY_BURST``, ``PROCTOR_REDIS_PREFIX``, plus the audit log's and the
        store's variables.
        ``overrides`` (``host=...``) win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "policy": Path(policy),
            "audit": AuditSettings.from_env(env),
            "redis_url": env.get("PROCTOR_REDIS_URL") or None,
            "redis_prefix": env.get("PROCTOR_REDIS_PREFIX") or "proctor:",
            "max_body_bytes": int(_number(env, "PROCTOR_GATEWAY_MAX_BODY_BYTES", 1_000_000)),
            "key_rate": _number(env, "PROCTOR_GATEWAY_KEY_RATE", 200.0),
            "key_burst": int(_number(env, "PROCTOR_GATEWAY_KEY_BURST", 400)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
