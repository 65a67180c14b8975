"""The kill switch's cache in front of the store: the switch is read from the store once per
``ttl``, a containment or a pause through the gateway is seen at once, and a containment's cap
survives the cache (in this process's memory and in Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from proctor.approvals import AgentControls, ApprovalQueue, Role
from proctor.model import Autonomy
from proctor.server._pauses import CachedControls, memory_cache
from proctor.store import create_store_engine, migrate


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    if request.param == "memory":
        yield memory_cache(), "t:"
        return
    url = request.getfixturevalue("redis_server")
    yield redis.Redis.from_url(url), str(request.getfixturevalue("redis_prefix"))


@pytest.fixture
def queue(sqlite_url: str) -> Iterator[ApprovalQueue]:
    engine = create_store_engine(sqlite_url)
    migrate(engine)
    q = ApprovalQueue(engine)
    yield q
    q.close()


def _cached(queue: ApprovalQueue, cache: tuple[Any, str], ttl: float = 60) -> CachedControls:
    return CachedControls(queue.controls, cache[0], ttl, cache[1])


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = AgentControls.status

    def counting(self: AgentControls, agent: str) -> Any:
        seen.append(agent)
        return real(self, agent)

    monkeypatch.setattr(AgentControls, "status", counting)
    return seen


def test_the_switch_is_read_from_the_store_once_per_ttl(queue, cache, reads):
    controls = _cached(queue, cache)
    assert controls.status("bot") is None
    assert controls.status("bot") is None
    assert controls.status("bot") is None
    assert reads == ["bot"]


def test_running_is_answered_from_the_cache_after_one_read(queue, cache, reads):
    controls = _cached(queue, cache)
    assert not asyncio.run(controls.running("bot"))  # not cached yet: ask status
    controls.status("bot")
    assert asyncio.run(controls.running("bot"))
    assert reads == ["bot"]


def test_a_containment_is_seen_at_once_through_a_warm_cache(queue, cache):
    controls = _cached(queue, cache)
    assert controls.status("bot") is None  # cached: running
    controls.contain("bot", "draft", by="monitor", reason="alert a-1")
    state = controls.status("bot")
    assert state is not None
    assert state.max_autonomy is Autonomy.DRAFT
    assert not state.paused
    assert state.by == "monitor"
    assert state.reason == "alert a-1"


def test_a_contained_agent_is_never_cached_as_running(queue, cache):
    controls = _cached(queue, cache)
    controls.contain("bot", "read", by="monitor", reason="alert a-2")
    first = controls.status("bot")  # store, then cache
    again = controls.status("bot")  # cache
    assert first == again
    assert again is not None
    assert again.max_autonomy is Autonomy.READ
    assert not asyncio.run(controls.running("bot"))


def test_pause_and_resume_through_the_gateway_update_the_cache(queue, cache):
    root = queue.authenticate("root", queue.access.add("root", [Role.ADMIN], by=None))
    controls = _cached(queue, cache)
    assert controls.status("bot") is None
    controls.pause("bot", by=root, reason="incident 7")
    assert controls.paused("bot") is not None
    controls.resume("bot", by=root, reason="fixed")
    assert controls.paused("bot") is None


def test_a_switch_flipped_elsewhere_is_seen_once_the_ttl_expires(queue, cache):
    root = queue.authenticate("root", queue.access.add("root", [Role.ADMIN], by=None))
    controls = _cached(queue, cache, ttl=0.001)
    assert controls.status("bot") is None
    queue.controls.pause("bot", by=root, reason="from the CLI")  # not through the cache
    time.sleep(0.01)
    state = controls.status("bot")
    assert state is not None
    assert state.paused
