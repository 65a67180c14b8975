"""The public names of ``proctor.server`` and ``proctor.mcp`` are what ``__all__`` says."""

from __future__ import annotations

import proctor.mcp
import proctor.server


def test_server_public_names():
    assert sorted(proctor.server.__all__) == [
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
    assert all(hasattr(proctor.server, n) for n in proctor.server.__all__)


def test_mcp_public_names():
    assert sorted(proctor.mcp.__all__) == [
        "Downstream",
        "DownstreamToolError",
        "McpProxy",
        "PinGuard",
        "PinMode",
        "TICKET_TOOL",
        "build_server",
        "serve_http",
        "serve_stdio",
        "tool_definition",
    ]
    assert all(hasattr(proctor.mcp, n) for n in proctor.mcp.__all__)
