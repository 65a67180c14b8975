"""The MCP servers behind the proxy: connections, their tools, and calling them.

One downstream is served as is (its tools keep their names); several are served behind one
endpoint as ``server.tool``. A downstream is a command (stdio) or an ``http(s)://`` URL
(streamable HTTP).
"""

from __future__ import annotations

import json
import shlex
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import mcp_types as types
from mcp.client.streamable_http import streamable_http_client

from mcp import ClientSession, StdioServerParameters, stdio_client
from proctor.errors import GatewayConfigError

SERVER_NAME = r"^[a-z][a-z0-9_-]{0,31}$"


class DownstreamToolError(Exception):
    """The downstream tool answered with ``isError``: its text, for the gate's outcome."""


@dataclass(frozen=True, slots=True)
class Downstream:
    """Where one downstream server is: a name (multi-server mode; "" alone), and a command or
    a URL. ``label``: the name of a lone server in the pin store (``--name``)."""

    name: str
    target: str
    label: str = "default"

    @staticmethod
    def parse(spec: str) -> Downstream:
        """``NAME=COMMAND ARGS...`` or ``NAME=http://host/mcp``."""
        import re

        name, sep, target = spec.partition("=")
        if not sep or not re.fullmatch(SERVER_NAME, name) or not target.strip():
            raise GatewayConfigError(
                f"--server {spec!r}: expected NAME=COMMAND or NAME=URL, NAME in a-z 0-9 _ -"
            )
        if name == "proctor":
            raise GatewayConfigError("--server: the name 'proctor' is the proxy's own")
        return Downstream(name, target.strip())

    def exposed(self, tool: str) -> str:
        return f"{self.name}.{tool}" if self.name else tool

    @property
    def scope(self) -> str:
        """Its name in the pin store: its ``--server`` name, or ``label`` alone."""
        return self.name or self.label


@dataclass(frozen=True, slots=True)
class Remote:
    """A downstream tool as the proxy knows it."""

    server: Downstream
    session: ClientSession
    tool: types.Tool

    async def call(self, **args: Any) -> object:
        """Call the tool (the gate passes the validated arguments); return its structured
        content, or its text. Raises ``DownstreamToolError`` when it answered with an error."""
        result = await self.session.call_tool(self.tool.name, args)
        text = "\n".join(_text(block) for block in result.content)
        if result.is_error:
            raise DownstreamToolError(text or "the downstream tool reported an error")
        if result.structured_content is not None:
            return result.structured_content
        return text


def _text(block: Any) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    kind = getattr(block, "type", type(block).__name__)
    return f"[{kind} content omitted by the proxy]"


async def connect(stack: AsyncExitStack, server: Downstream) -> ClientSession:
    """Start (or reach) ``server`` and initialize an MCP session with it."""
    if server.target.startswith(("http://", "https://")):
        streams = await stack.enter_async_context(streamable_http_client(server.target))
        read, write = streams[0], streams[1]
    else:
        argv = shlex.split(server.target)
        params = StdioServerParameters(command=argv[0], args=argv[1:])
        read, write = await stack.enter_async_context(stdio_client(params))
    session = await stack.enter_async_context(ClientSession(read, write))
    await session.initialize()
    return session


async def list_all(session: ClientSession) -> list[types.Tool]:
    """Every tool of ``session``, across pages."""
    tools: list[types.Tool] = []
    cursor: str | None = None
    while True:
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def as_json(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
