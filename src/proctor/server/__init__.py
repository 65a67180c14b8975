"""The HTTP gateway: ``proctor serve`` (docs/gateway.md).

``create_app(GatewaySettings.from_env(policy_dir))`` is the FastAPI application of one gateway
process; ``Gateway`` holds what it serves with (store, audit log, approval queue, shared state,
the gate). Several processes share PostgreSQL and Redis (``PROCTOR_REDIS_URL``). Needs the
``server`` extra (``pip install 'proctor[server]'``).
"""

from __future__ import annotations

from proctor.server._app import create_app
from proctor.server._auth import Caller
from proctor.server._groupcommit import GroupCommitLog
from proctor.server._runtime import Gateway
from proctor.server._settings import GatewaySettings
from proctor.server._state import LocalState, RedisFlowStore, RedisRateLimiter, RedisState

__all__ = [
    "Caller",
    "Gateway",
    "GatewaySettings",
    "GroupCommitLog",
    "LocalState",
    "RedisFlowStore",
    "RedisRateLimiter",
    "RedisState",
    "create_app",
]
