"""Gateway fixtures: a gateway on each database, and the local HTTP endpoints its tools call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from ._world import World, running, settings_for, write_policies


class Endpoints:
    """What the policy's HTTP tools reach, in process: records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "slow.test":
            await asyncio.sleep(5)
        if request.url.host == "orders.test":
            order = unquote(request.url.raw_path.decode().split("?")[0].rsplit("/", 1)[-1])
            return httpx.Response(200, json={"order_id": order, "status": "shipped"})
        if request.url.host == "payments.test":
            body = json.loads(request.content or b"{}")
            return httpx.Response(200, json={"refunded": body.get("amount"), "ok": True})
        return httpx.Response(404)


@pytest.fixture(autouse=True)
def digest_key(monkeypatch) -> None:
    """The deployment's digest key (memory's fingerprints): set, so that no development
    keyring is generated in the working directory for a PostgreSQL store."""
    monkeypatch.setenv("PROCTOR_DIGEST_KEY", "d1" * 32)


@pytest.fixture
def endpoints() -> Endpoints:
    return Endpoints()


@pytest.fixture
def make(db_url, tmp_path, endpoints) -> Iterator[Callable[..., World]]:
    """``make(**settings)``: a running gateway on this test's database (SQLite, then
    PostgreSQL), its tools answered by ``endpoints``."""
    stack: list[Any] = []

    def build(rate: str = "1000/minute", **kw: Any) -> World:
        policy = write_policies(tmp_path, rate)
        cm = running(settings_for(db_url, policy, **kw), httpx.MockTransport(endpoints.handle))
        stack.append(cm)
        return cm.__enter__()

    yield build
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def world(make) -> World:
    return make()
