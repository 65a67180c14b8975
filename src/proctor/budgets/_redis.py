"""The budget ledger in Redis, shared by every gateway process, as ``proctor.server`` shares
rate limits: each check-and-reserve is one Lua script, so two processes racing for the last
unit of a budget cannot both get it.

Per account, two sorted sets: committed entries scored by when they were reserved, and live
reservations scored by when they expire; each member is ``id|amount|time``. The clock is
Redis's (``TIME``), one clock for every process, unless a clock is given (tests). Sums are
exact: amounts are integer micro-units, well within a double's exact range. Redis holds the
accounts in memory: durable only as far as its persistence is configured (AOF), which is why
the gateway keeps budgets in the SQL store unless told otherwise (docs/budgets.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from proctor.budgets._ledger import AccountState, Reservation, new_id
from proctor.errors import BudgetError
from proctor.policy import Charge

_NOW = """
local function clock(arg)
  if arg ~= '' then return arg end
  local t = redis.call('TIME')
  return t[1] .. string.sub('000000' .. t[2], -6)
end
local function extend(key, ms)
  -- never shortens: a fast call's reservation must not expire a slow one's still in flight
  local cur = redis.call('PTTL', key)
  if cur == -1 or (cur >= 0 and cur < ms) then
    redis.call('PEXPIRE', key, ms)
  end
end
local function sum(key)
  local total = 0
  for _, m in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    total = total + tonumber(string.match(m, '^[^|]*|(%d+)|'))
  end
  return total
end
"""
# KEYS: committed, reserved, index per charge. ARGV: now ('' = Redis TIME), ttl (us), id,
# then per charge: window (us), limit, amount, enforce (1/0), account.
_RESERVE = (
    _NOW
    + """
local now_s = clock(ARGV[1])
local now = tonumber(now_s)
local ttl = tonumber(ARGV[2])
local n = #KEYS / 3
for i = 1, n do
  local c, r = KEYS[3 * i - 2], KEYS[3 * i - 1]
  local b = 3 + (i - 1) * 5
  redis.call('ZREMRANGEBYSCORE', c, '-inf', now - tonumber(ARGV[b + 1]))
  redis.call('ZREMRANGEBYSCORE', r, '-inf', now)
  if ARGV[b + 4] == '1' and sum(c) + sum(r) + tonumber(ARGV[b + 3]) > tonumber(ARGV[b + 2]) then
    return {i, now_s}
  end
end
for i = 1, n do
  local r, idx = KEYS[3 * i - 1], KEYS[3 * i]
  local b = 3 + (i - 1) * 5
  redis.call('ZADD', r, now + ttl, ARGV[3] .. '|' .. ARGV[b + 3] .. '|' .. now_s)
  extend(r, math.floor(ttl / 1000) + 60000)
  redis.call('SADD', idx, ARGV[b + 5])
  extend(idx, math.floor(tonumber(ARGV[b + 1]) / 1000) + 60000)
end
return {0, now_s}
"""
)
# KEYS: committed, reserved per account. ARGV: now, then the window (us) per account.
_USAGE = (
    _NOW
    + """
local now = tonumber(clock(ARGV[1]))
local out = {}
for i = 1, #KEYS / 2 do
  local c, r = KEYS[2 * i - 1], KEYS[2 * i]
  redis.call('ZREMRANGEBYSCORE', c, '-inf', now - tonumber(ARGV[i + 1]))
  redis.call('ZREMRANGEBYSCORE', r, '-inf', now)
  out[2 * i - 1] = sum(c)
  out[2 * i] = sum(r)
end
return out
"""
)
# KEYS: committed, reserved per charge. ARGV per charge: member, time (us), window (us).
_COMMIT = (
    _NOW
    + """
for i = 1, #KEYS / 2 do
  local m = ARGV[3 * i - 2]
  redis.call('ZREM', KEYS[2 * i], m)
  redis.call('ZADD', KEYS[2 * i - 1], ARGV[3 * i - 1], m)
  extend(KEYS[2 * i - 1], math.floor(tonumber(ARGV[3 * i]) / 1000) + 60000)
end
return 0
"""
)
_RELEASE = """
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[i])
end
return 0
"""


class RedisLedger:
    """Budgets in the Redis of ``client`` (a synchronous ``redis.Redis``), keys under
    ``prefix``. Every Redis error becomes a ``BudgetError``: the gate denies."""

    def __init__(
        self,
        client: Any,
        prefix: str = "proctor:budget:",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._r = client
        self._prefix = prefix
        self._clock = clock
        self._reserve = client.register_script(_RESERVE)
        self._usage = client.register_script(_USAGE)
        self._commit = client.register_script(_COMMIT)
        self._release = client.register_script(_RELEASE)

    def _now(self) -> str:
        return "" if self._clock is None else str(int(self._clock() * 1_000_000))

    def _keys(self, account: str) -> tuple[str, str]:
        base = f"{self._prefix}a:{account}"
        return base + ":c", base + ":r"

    def _call(self, what: str, script: Any, keys: list[str], args: list[object]) -> Any:
        try:
            return script(keys=keys, args=args)
        except Exception as exc:  # redis.RedisError, a timeout, a script error
            raise BudgetError(f"cannot {what} in Redis: {type(exc).__name__}: {exc}") from exc

    def _states(self, accounts: Sequence[tuple[str, str, int]]) -> list[AccountState]:
        keys: list[str] = []
        for _, account, _ in accounts:
            keys.extend(self._keys(account))
        args: list[object] = [self._now(), *(w * 1_000_000 for _, _, w in accounts)]
        got = self._call("read budgets", self._usage, keys, args)
        return [
            AccountState(budget, account, int(got[2 * i]), int(got[2 * i + 1]))
            for i, (budget, account, _) in enumerate(accounts)
        ]

    def usage(self, charges: Sequence[Charge]) -> dict[str, int]:
        if not charges:
            return {}
        states = self._states([(c.budget, c.key, c.window) for c in charges])
        return {s.key: s.used for s in states}

    def reserve(self, charges: Sequence[Charge], ttl: float) -> Reservation | Charge:
        rid = new_id()
        keys: list[str] = []
        args: list[object] = [self._now(), int(ttl * 1_000_000), rid]
        for c in charges:
            keys.extend(self._keys(c.key))
            keys.append(f"{self._prefix}i:{c.budget}")
            args += [c.window * 1_000_000, c.limit, c.amount, "1" if c.enforce else "0", c.key]
        if not charges:
            return Reservation(rid, (), 0.0)
        full, stamp = self._call("reserve budget", self._reserve, keys, args)
        stamp = stamp.decode() if isinstance(stamp, bytes) else str(stamp)
        if int(full):
            return charges[int(full) - 1]
        return Reservation(rid, tuple(charges), int(stamp) / 1_000_000, stamp)

    @staticmethod
    def _member(reservation: Reservation, c: Charge) -> str:
        return f"{reservation.id}|{c.amount}|{reservation.stamp}"

    def commit(self, reservation: Reservation) -> None:
        if reservation.empty:
            return
        keys: list[str] = []
        args: list[object] = []
        for c in reservation.charges:
            keys.extend(self._keys(c.key))
            args += [self._member(reservation, c), reservation.stamp, c.window * 1_000_000]
        self._call("commit budget", self._commit, keys, args)

    def release(self, reservation: Reservation) -> None:
        if reservation.empty:
            return
        keys = [self._keys(c.key)[1] for c in reservation.charges]
        args: list[object] = [self._member(reservation, c) for c in reservation.charges]
        self._call("release budget", self._release, keys, args)

    def accounts(self, budget: str, window: int) -> list[AccountState]:
        try:
            members = self._r.smembers(f"{self._prefix}i:{budget}")
        except Exception as exc:
            raise BudgetError(f"cannot read budgets in Redis: {type(exc).__name__}") from exc
        names = sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)
        if not names:
            return []
        return self._states([(budget, n, window) for n in names])
