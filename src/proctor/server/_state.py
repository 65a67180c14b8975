"""State the gateway processes share: rate limits, the key buckets, the kill switch's cache,
hot sessions and the flow store. ``LocalState`` keeps it in this process (one gateway process);
``RedisState`` keeps it in Redis, so that any number of processes enforce one limit.

Every Redis error propagates: the gate turns it into a DENY (rate, flow, kill switch) and the
API into a 503 (sessions, key buckets). Nothing is allowed because Redis was unreachable.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from proctor.flow import Content, FlowStore, InMemoryFlowStore
from proctor.policy import RateRule
from proctor.tools import RateCounter, RateLimiter


@dataclass(slots=True)
class Prefetched:
    """What the lean route's first round trip to Redis read besides the rate token and the
    session, for the gate's steps of the same request (``PREFETCHED``): the session's flow
    entries from ``flow_from`` on, and the agent's cached kill switch (``pause``, read only if
    ``agent`` is set). Each is used once (taken), and only if it still fits: the flow entries
    if this process still knows ``flow_from`` of them, the switch for ``agent`` alone."""

    session_id: str
    flow_from: int
    flow: list[bytes] | None
    agent: str | None = None
    pause: bytes | None = None

    def take_flow(self, session_id: str, known: int) -> list[bytes] | None:
        flow, self.flow = self.flow, None
        return flow if session_id == self.session_id and known == self.flow_from else None

    def take_pause(self, agent: str) -> tuple[bool, bytes | None]:
        """(read, the cached switch) for ``agent``; read is False if it was not read."""
        mine, self.agent = self.agent, None
        return (True, self.pause) if mine is not None and mine == agent else (False, None)


PREFETCHED: ContextVar[Prefetched | None] = ContextVar("proctor_prefetched", default=None)


def pause_key(prefix: str, agent: str) -> str:
    """The Redis key of ``agent``'s cached kill switch (``CachedControls`` writes it, the lean
    route's first round trip reads it)."""
    return prefix + "pause:" + agent


class SharedState(Protocol):
    """What the gateway keeps outside its request handlers."""

    rates: RateCounter
    flow: FlowStore

    async def take(self, key: str, rate: float, burst: int) -> float:
        """Take one token from ``key``'s bucket: 0 if granted, else seconds until one is."""
        ...

    async def session_get(self, session_id: str) -> dict[str, Any] | None: ...

    async def take_and_get(
        self, key: str, rate: float, burst: int, session_id: str, agent: str | None = None
    ) -> tuple[float, dict[str, Any] | None, Prefetched | None]:
        """``take`` and ``session_get`` at once; in Redis one round trip, which also reads
        what the gate will ask of Redis for this session (and ``agent``'s kill switch)."""
        ...

    async def session_put(self, session_id: str, data: dict[str, Any]) -> None: ...

    async def ping(self) -> None: ...

    def close(self) -> None: ...


class _Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp


class LocalState:
    """One process: the gate's own limiter, an in-memory flow store, buckets in a dict."""

    def __init__(self, session_cache: int = 100_000) -> None:
        self.rates: RateCounter = RateLimiter()
        self.flow: FlowStore = InMemoryFlowStore()
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._max = session_cache
        self._lock = threading.Lock()

    async def take(self, key: str, rate: float, burst: int) -> float:
        now = time.monotonic()
        with self._lock:
            b = self._buckets.get(key)
            if b is None:
                b = self._buckets[key] = _Bucket(float(burst), now)
                while len(self._buckets) > self._max:
                    self._buckets.popitem(last=False)
            b.tokens = min(float(burst), b.tokens + (now - b.stamp) * rate)
            b.stamp = now
            if b.tokens >= 1.0:
                b.tokens -= 1.0
                return 0.0
            return (1.0 - b.tokens) / rate

    async def session_get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._sessions.get(session_id)

    async def take_and_get(
        self, key: str, rate: float, burst: int, session_id: str, agent: str | None = None
    ) -> tuple[float, dict[str, Any] | None, Prefetched | None]:
        return await self.take(key, rate, burst), await self.session_get(session_id), None

    async def session_put(self, session_id: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._sessions[session_id] = data
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)

    async def ping(self) -> None:
        return None

    def close(self) -> None:
        return None


# -- Redis ---------------------------------------------------------------------------------------

# Sliding-window logs, one sorted set per rule key, on Redis's clock (one clock for every
# process). usage: drop what left the window, count. acquire: the same for every key, then, only
# if none is full, add one member to each: in one script, so two processes racing for the last
# slot cannot both get it.
_USAGE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[i]) * 1000000)
  out[i] = redis.call('ZCARD', key)
end
return out
"""
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[i]) * 1000000)
  if redis.call('ZCARD', key) >= tonumber(ARGV[n + i]) then
    return i
  end
end
local seq = redis.call('INCR', ARGV[2 * n + 1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, now .. ':' .. seq)
  redis.call('PEXPIRE', key, tonumber(ARGV[i]) * 1000 + 1000)
end
return 0
"""
_RELEASE = """
for i, key in ipairs(KEYS) do
  redis.call('ZPOPMAX', key)
end
return 0
"""
# A token bucket per key: a hash of (tokens, stamp in microseconds), refilled on Redis's clock.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(b[1]) or burst
local stamp = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - stamp) / 1000000 * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""
# The same, and in the same round trip: the cached session KEYS[2], the session's flow entries
# KEYS[3] from ARGV[3] on, and (if KEYS[4] is given) the agent's cached kill switch.
_TAKE_GET = _TAKE.replace(
    "return tostring(wait)",
    """local out = {tostring(wait), redis.call('GET', KEYS[2])}
out[3] = redis.call('LRANGE', KEYS[3], tonumber(ARGV[3]), -1)
if KEYS[4] then out[4] = redis.call('GET', KEYS[4]) end
return out""",
)


class RedisRateLimiter:
    """The gate's rate limits in Redis: exact sliding windows shared by every process.

    Synchronous, as the gate's limiter interface is (one round trip per check, on loopback a
    fraction of a millisecond), and with ``aio`` (an asyncio client) the same as coroutines,
    which the gate awaits: its event loop does not wait for Redis. Not a token bucket on
    purpose: a policy's ``20/hour`` means at most 20 calls in any hour, which a bucket refilled
    at 20 per hour does not guarantee (it lets 20 through at once and more as it refills,
    within the same hour)."""

    def __init__(self, client: Any, prefix: str = "proctor:rate:", aio: Any = None) -> None:
        self._r = client
        self._prefix = prefix
        self._usage = client.register_script(_USAGE)
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._aio = aio
        if aio is not None:
            self._ausage = aio.register_script(_USAGE)
            self._aacquire = aio.register_script(_ACQUIRE)
            self._arelease = aio.register_script(_RELEASE)

    def _keys(self, rules: Sequence[RateRule], agent: str, session_id: str) -> list[str]:
        return [self._prefix + r.key(agent, session_id) for r in rules]

    def _acquire_args(self, rules: Sequence[RateRule]) -> list[object]:
        args: list[object] = [r.rate.seconds for r in rules]
        args += [r.rate.count for r in rules]
        args.append(self._prefix + "seq")
        return args

    def usage(self, rules: Sequence[RateRule], agent: str, session_id: str) -> dict[str, int]:
        if not rules:
            return {}
        counts = self._usage(
            keys=self._keys(rules, agent, session_id), args=[r.rate.seconds for r in rules]
        )
        return {r.id: int(c) for r, c in zip(rules, counts, strict=True)}

    def acquire(self, rules: Sequence[RateRule], agent: str, session_id: str) -> RateRule | None:
        if not rules:
            return None
        keys = self._keys(rules, agent, session_id)
        full = int(self._acquire(keys=keys, args=self._acquire_args(rules)))
        return rules[full - 1] if full else None

    def release(self, rules: Sequence[RateRule], agent: str, session_id: str) -> None:
        if rules:
            self._release(keys=self._keys(rules, agent, session_id))

    async def ausage(
        self, rules: Sequence[RateRule], agent: str, session_id: str
    ) -> dict[str, int]:
        if self._aio is None:
            return self.usage(rules, agent, session_id)
        if not rules:
            return {}
        counts = await self._ausage(
            keys=self._keys(rules, agent, session_id), args=[r.rate.seconds for r in rules]
        )
        return {r.id: int(c) for r, c in zip(rules, counts, strict=True)}

    async def aacquire(
        self, rules: Sequence[RateRule], agent: str, session_id: str
    ) -> RateRule | None:
        if self._aio is None:
            return self.acquire(rules, agent, session_id)
        if not rules:
            return None
        keys = self._keys(rules, agent, session_id)
        full = int(await self._aacquire(keys=keys, args=self._acquire_args(rules)))
        return rules[full - 1] if full else None

    async def arelease(self, rules: Sequence[RateRule], agent: str, session_id: str) -> None:
        if self._aio is None:
            self.release(rules, agent, session_id)
        elif rules:
            await self._arelease(keys=self._keys(rules, agent, session_id))


class RedisFlowStore:
    """A session's content in a Redis list (JSON, see ``_codec``), cached per process: each
    read fetches only the entries appended since this process last looked (one round trip)."""

    def __init__(
        self,
        client: Any,
        *,
        max_contents: int = 10_000,
        ttl_seconds: int = 7 * 86400,
        cache_sessions: int = 10_000,
        prefix: str = "proctor:flow:",
    ) -> None:
        from proctor.server._codec import dump_content, load_content

        self._r = client
        self._dump, self._load = dump_content, load_content
        self._max = max_contents
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._cache: OrderedDict[str, list[Content]] = OrderedDict()
        self._cache_max = cache_sessions
        self._lock = threading.Lock()

    async def add(self, session_id: str, content: Content) -> None:
        key = self._prefix + session_id
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.rpush(key, self._dump(content))
            pipe.expire(key, self._ttl)
            length, _ = await pipe.execute()
        if int(length) > self._max:
            await self._r.rpop(key)
            raise OverflowError(
                f"session {session_id} holds {self._max} contents; refusing more "
                "(provenance would be incomplete)"
            )

    def key(self, session_id: str) -> str:
        return self._prefix + session_id

    def known(self, session_id: str) -> int:
        """How many of the session's entries this process holds decoded."""
        with self._lock:
            return len(self._cache.get(session_id, ()))

    async def contents(self, session_id: str) -> Sequence[Content]:
        """The session's content: what this process decoded before, and what was appended
        since, read now (or in this request's first round trip: ``PREFETCHED``)."""
        with self._lock:
            known = list(self._cache.get(session_id, ()))
        pre = PREFETCHED.get()
        fresh = pre.take_flow(session_id, len(known)) if pre is not None else None
        if fresh is None:
            fresh = await self._r.lrange(self._prefix + session_id, len(known), -1)
        if not fresh:
            return tuple(known)
        known.extend(self._load(item) for item in fresh)
        with self._lock:
            cached = self._cache.get(session_id)
            if cached is None or len(cached) < len(known):
                self._cache[session_id] = known
            self._cache.move_to_end(session_id)
            while len(self._cache) > self._cache_max:
                self._cache.popitem(last=False)
        return tuple(known)


_Call = tuple[list[str], list[object], "asyncio.Future[Any]"]  # keys, args, the caller's answer


class ScriptBatch:
    """Calls of one Lua script made in the same turn of the event loop, sent to Redis together:
    one pipeline (not a transaction: each call is its own script, atomic as before), one round
    trip, one pass through the client's machinery (its retry, timeout and connection pool cost
    more CPU than the script's reply: about 45 of a call's 70 microseconds). A call alone is sent
    as the plain script call. Each caller gets its own script's answer or error; an error of
    the round trip itself (Redis down, the timeout) reaches every caller of the batch. Scripts
    Redis no longer knows (a restart, ``SCRIPT FLUSH``) are loaded, and only the calls that
    did not run are sent again."""

    def __init__(self, client: Any, script: Any) -> None:
        self._client = client
        self._script = script  # redis.commands.core.AsyncScript: .sha, .script, __call__
        self._waiting: list[_Call] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def __call__(self, keys: list[str], args: list[object]) -> Any:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((keys, args, answer))
        if len(self._waiting) == 1:  # the first of this turn: the batch is taken after it
            loop.call_soon(self._flush, loop)
        return await answer

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._waiting = self._waiting, []
        task = loop.create_task(self._send(batch))
        self._sending.add(task)
        task.add_done_callback(functools.partial(self._sent, batch))

    def _sent(self, batch: list[_Call], task: asyncio.Task[None]) -> None:
        """A batch's task ended: any caller still waiting (its task was cancelled, even before
        it started, or ended by a ``BaseException``) is cancelled, never left waiting."""
        self._sending.discard(task)
        for *_, answer in batch:
            if not answer.done():
                answer.cancel()

    async def _send(self, batch: list[_Call]) -> None:
        try:
            if len(batch) == 1:
                keys, args, _ = batch[0]
                replies: list[Any] = [await self._script(keys=keys, args=args)]
            else:
                replies = await self._pipelined(batch)
        except Exception as exc:  # the round trip failed: every caller of it fails
            replies = [exc] * len(batch)
        for (*_, answer), reply in zip(batch, replies, strict=True):
            if answer.done():  # its caller was cancelled
                continue
            if isinstance(reply, Exception):
                answer.set_exception(reply)
            else:
                answer.set_result(reply)

    async def _pipelined(self, batch: list[_Call]) -> list[Any]:
        from redis.exceptions import NoScriptError

        replies: list[Any] = [None] * len(batch)
        todo = list(range(len(batch)))
        for attempt in range(2):
            pipe = self._client.pipeline(transaction=False)
            for i in todo:
                keys, args, _ = batch[i]
                pipe.evalsha(self._script.sha, len(keys), *keys, *args)
            got = await pipe.execute(raise_on_error=False)
            for i, reply in zip(todo, got, strict=True):
                replies[i] = reply
            todo = [i for i in todo if isinstance(replies[i], NoScriptError)]
            if not todo or attempt:
                break
            await self._client.script_load(self._script.script)  # then those, once more
        return replies


class RedisState:
    """Everything shared, in the Redis at ``url``. Two clients: a synchronous one for the gate's
    rate limiter and the kill switch's cache (called from threads), an asynchronous one for the
    rest. Short timeouts: a Redis that does not answer is an error, not a wait."""

    def __init__(
        self, url: str, *, timeout: float = 2.0, session_ttl: int = 3600, prefix: str = "proctor:"
    ) -> None:
        import redis
        import redis.asyncio as aredis

        self.url = url
        self.sync = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.aio = aredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.prefix = prefix
        self.rates: RateCounter = RedisRateLimiter(self.sync, prefix + "rate:", self.aio)
        self.flow: FlowStore = RedisFlowStore(self.aio, prefix=prefix + "flow:")
        self._take = self.aio.register_script(_TAKE)
        self._take_get = ScriptBatch(self.aio, self.aio.register_script(_TAKE_GET))
        self._session_ttl = session_ttl

    async def take(self, key: str, rate: float, burst: int) -> float:
        wait = await self._take(keys=[self.prefix + "bucket:" + key], args=[rate, burst])
        return float(wait)

    async def session_get(self, session_id: str) -> dict[str, Any] | None:
        raw = await self.aio.get(self.prefix + "session:" + session_id)
        return None if raw is None else dict(json.loads(raw))

    async def take_and_get(
        self, key: str, rate: float, burst: int, session_id: str, agent: str | None = None
    ) -> tuple[float, dict[str, Any] | None, Prefetched | None]:
        flow = self.flow if isinstance(self.flow, RedisFlowStore) else None
        known = flow.known(session_id) if flow is not None else 0
        keys = [
            self.prefix + "bucket:" + key,
            self.prefix + "session:" + session_id,
            flow.key(session_id) if flow is not None else self.prefix + "flow:" + session_id,
        ]
        if agent is not None:
            keys.append(pause_key(self.prefix, agent))
        got = await self._take_get(keys, [rate, burst, known])
        wait, raw, entries = got[0], got[1], got[2]
        pre = Prefetched(
            session_id,
            known,
            list(entries) if flow is not None else None,
            agent,
            got[3] if agent is not None and len(got) > 3 else None,
        )
        return float(wait), None if raw is None else dict(json.loads(raw)), pre

    async def session_put(self, session_id: str, data: dict[str, Any]) -> None:
        await self.aio.set(
            self.prefix + "session:" + session_id,
            json.dumps(data, separators=(",", ":")),
            ex=self._session_ttl,
        )

    async def ping(self) -> None:
        await self.aio.ping()

    def close(self) -> None:
        self.sync.close()
