"""The MCP proxy: ``proctor mcp-proxy --policy FILE -- COMMAND`` (docs/mcp.md).

``McpProxy`` puts the gate in front of one MCP server, or several behind one endpoint (tools
named ``server.tool``): the policy filters ``tools/list``, the gate decides every
``tools/call``, and tool results are ingested as untrusted content before the client sees them.
``PinGuard`` lists and lets through only downstream tools whose definition an operator approved
(``proctor.pins``).
Needs the ``server`` extra.
"""

from __future__ import annotations

from proctor.mcp._downstream import Downstream, DownstreamToolError
from proctor.mcp._pinning import PinGuard, PinMode, tool_definition
from proctor.mcp._proxy import TICKET_TOOL, McpProxy
from proctor.mcp._serve import build_server, serve_http, serve_stdio

__all__ = [
    "TICKET_TOOL",
    "Downstream",
    "DownstreamToolError",
    "McpProxy",
    "PinGuard",
    "PinMode",
    "build_server",
    "serve_http",
    "serve_stdio",
    "tool_definition",
]
