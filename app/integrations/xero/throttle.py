"""Keep our Xero calls inside Xero's rate limits, across every worker process, through Redis.

Xero's limits are rolling windows (60 calls in any 60 s per org, 5000 in any 24 h, 10,000 in any
60 s app-wide) plus 5 calls in flight per org. A refilling token bucket does not fit a rolling window:
one that refills at 1/s lets a full bucket of 60 go at once and 30 more over the next 30 s, so 90
calls land in one 60 s window. So each window is a sliding log instead: a sorted set of call
timestamps, trimmed as entries age out; a call may go only while the log holds fewer than the limit.

Each operation is one Lua script, so no two processes can both take the last slot. Timestamps come
from the injected clock (passed as arguments, never Redis's TIME) so tests and a time-scaled
benchmark control time. Redis's clock only drives key TTLs, which just collect idle orgs' keys.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import redis.asyncio

# KEYS: org minute log, org day log, org in-flight, org hold, app minute log, app hold.
# ARGV: now, call id, per_minute, in_flight, per_day, app_per_minute, minute s, day s, margin s,
#       lease s, poll s, minute ttl ms, day ttl ms, lease ttl ms.
# Returns nil with the call recorded, or the seconds to wait (as a string: Lua numbers reach the
# client truncated to integers).
_ACQUIRE = """
local now, margin = tonumber(ARGV[1]), tonumber(ARGV[9])
local function fmt(x) return string.format('%.17g', x) end
local function held(key) return tonumber(redis.call('GET', key) or '0') - now end
local function room(key, limit, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - window - margin))
  local excess = redis.call('ZCARD', key) - limit
  if excess < 0 then return 0 end
  -- the log may hold more than the limit (limits lowered since): wait for the excess to age out
  local entry = redis.call('ZRANGE', key, excess, excess, 'WITHSCORES')
  return tonumber(entry[2]) + window + margin - now
end
local minute, day = tonumber(ARGV[7]), tonumber(ARGV[8])
local wait = math.max(held(KEYS[4]), held(KEYS[6]), room(KEYS[1], tonumber(ARGV[3]), minute),
  room(KEYS[2], tonumber(ARGV[5]), day), room(KEYS[5], tonumber(ARGV[6]), minute))
if wait > 0 then return fmt(wait) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', fmt(now))
local busy = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[4])
if busy >= 0 then
  -- a release can come at any moment, so poll; but never past the moment a lease runs out
  local lease = redis.call('ZRANGE', KEYS[3], busy, busy, 'WITHSCORES')
  return fmt(math.min(tonumber(ARGV[11]), tonumber(lease[2]) - now))
end
for _, log in ipairs({{KEYS[1], ARGV[12]}, {KEYS[2], ARGV[13]}, {KEYS[5], ARGV[12]}}) do
  redis.call('ZADD', log[1], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', log[1], log[2])
end
redis.call('ZADD', KEYS[3], fmt(now + tonumber(ARGV[10])), ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[14])
return false
"""

# KEYS: org minute log, org day log, org in-flight, app minute log. ARGV: now, call id, minute ttl ms, day ttl ms.
_RELEASE = """
redis.call('ZREM', KEYS[3], ARGV[2])
local now = tonumber(ARGV[1])
for _, log in ipairs({{KEYS[1], ARGV[3]}, {KEYS[2], ARGV[4]}, {KEYS[4], ARGV[3]}}) do
  local at = redis.call('ZSCORE', log[1], ARGV[2])
  -- only ever later (a stale release never pulls a stamp back) and never reviving a trimmed entry
  if at and tonumber(at) < now then
    redis.call('ZADD', log[1], ARGV[1], ARGV[2])
    redis.call('PEXPIRE', log[1], log[2])
  end
end
"""

# KEYS: hold. ARGV: held until, ttl ms.
_HOLD = """
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
"""

# Slack on key TTLs: they run on Redis's clock, which may lag ours.
_TTL_SLACK_SECONDS = 60.0


@dataclass(frozen=True)
class Limits:
    per_minute: int = 60
    in_flight: int = 5
    per_day: int = 5000
    app_per_minute: int = 10_000
    minute_seconds: float = 60.0  # a benchmark against a time-scaled fake Xero shrinks these
    day_seconds: float = 86_400.0
    margin_seconds: float = 1.0  # slack against clock skew between us and Xero
    lease_seconds: float = 120.0  # an in-flight slot of a crashed worker frees itself after this


@dataclass(frozen=True)
class Permit:
    org: str
    call_id: str


class ThrottleTimeout(Exception):
    """No slot came within ``max_wait``; ``retry_in`` says when the next one might."""

    def __init__(self, retry_in: float) -> None:
        super().__init__(f"no Xero call slot within the time allowed; retry in {retry_in:.3f}s")
        self.retry_in = retry_in


def _ttl_ms(seconds: float) -> int:
    return math.ceil((seconds + _TTL_SLACK_SECONDS) * 1000)


class XeroThrottle:
    def __init__(
        self,
        redis: redis.asyncio.Redis,
        prefix: str,
        limits: Limits = Limits(),  # frozen, so one shared default is safe
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        self._redis = redis
        self._prefix = f"{prefix}xero:throttle:"
        self._clock = clock
        self._sleep = sleep
        # Typed here because redis-py leaves AsyncScript.__call__ unannotated.
        self._acquire: Callable[..., Awaitable[Any]] = redis.register_script(_ACQUIRE)
        self._release: Callable[..., Awaitable[Any]] = redis.register_script(_RELEASE)
        self._hold: Callable[..., Awaitable[Any]] = redis.register_script(_HOLD)
        margin = limits.margin_seconds
        self._minute_ttl = _ttl_ms(limits.minute_seconds + margin)
        self._day_ttl = _ttl_ms(limits.day_seconds + margin)

    def _org_keys(self, org: str) -> tuple[str, str, str, str]:
        base = f"{self._prefix}org:{org}:"
        return base + "minute", base + "day", base + "in_flight", base + "hold"

    @property
    def _app_keys(self) -> tuple[str, str]:
        return self._prefix + "app:minute", self._prefix + "app:hold"

    async def try_acquire(self, org: str) -> Permit | float:
        """A permit for one call to ``org`` now, or the seconds to wait before asking again."""
        lim = self.limits
        call_id = uuid.uuid4().hex
        args = [self._clock(), call_id, lim.per_minute, lim.in_flight, lim.per_day, lim.app_per_minute]
        args += [lim.minute_seconds, lim.day_seconds, lim.margin_seconds, lim.lease_seconds]
        args += [0.05 * lim.minute_seconds / 60, self._minute_ttl, self._day_ttl, _ttl_ms(lim.lease_seconds)]
        wait = await self._acquire(keys=[*self._org_keys(org), *self._app_keys], args=args)
        return Permit(org, call_id) if wait is None else float(wait)

    async def release(self, permit: Permit) -> None:
        """The call's answer came back: free its in-flight slot and count it from now, since Xero
        counted it on arrival, somewhere between our acquire and now."""
        minute, day, in_flight, _ = self._org_keys(permit.org)
        keys = [minute, day, in_flight, self._app_keys[0]]
        await self._release(keys=keys, args=[self._clock(), permit.call_id, self._minute_ttl, self._day_ttl])

    async def hold_off(self, org: str | None, seconds: float, problem: str) -> None:
        """After a 429: no calls to ``org`` (every org, for ``appminute`` or no org) for ``seconds``
        plus the margin. An existing longer hold stays."""
        key = self._app_keys[1] if org is None or problem == "appminute" else self._org_keys(org)[3]
        seconds += self.limits.margin_seconds
        await self._hold(keys=[key], args=[self._clock() + seconds, _ttl_ms(seconds)])

    @asynccontextmanager
    async def slot(self, org: str, *, max_wait: float) -> AsyncIterator[Permit]:
        """Wait (at most ``max_wait`` seconds) for a permit, hold it for the block, then release it."""
        deadline = self._clock() + max_wait
        while not isinstance(got := await self.try_acquire(org), Permit):
            if self._clock() + got > deadline:
                raise ThrottleTimeout(got)
            await self._sleep(got)
        try:
            yield got
        finally:
            await self.release(got)

    async def usage(self, org: str) -> dict[str, int]:
        """Calls counted now in the org's minute and day logs, in flight, and app-wide this minute."""
        lim, now = self.limits, self._clock()
        minute, day, in_flight, _ = self._org_keys(org)
        # Exclusive bounds, matching what the scripts trim (score <= cutoff is gone).
        minute_from = f"({now - lim.minute_seconds - lim.margin_seconds!r}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zcount(minute, minute_from, "+inf")
            pipe.zcount(day, f"({now - lim.day_seconds - lim.margin_seconds!r}", "+inf")
            pipe.zcount(in_flight, f"({now!r}", "+inf")
            pipe.zcount(self._app_keys[0], minute_from, "+inf")
            counts = await pipe.execute()
        return dict(zip(("minute", "day", "in_flight", "app_minute"), map(int, counts), strict=True))
