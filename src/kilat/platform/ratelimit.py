"""Fixed-window rate limits: one port, an in-memory adapter, a Redis adapter shared by processes."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

log = structlog.get_logger(__name__)

Clock = Callable[[], float]


class RateLimiter(Protocol):
    """Counts hits per key in fixed windows of ``window_seconds`` aligned to the epoch.

    ``hit(key)`` MUST count the hit and return ``(allowed, retry_after_seconds)``. ``allowed`` is
    True while the key has at most ``limit`` hits in the current window. ``retry_after_seconds`` is
    0 when allowed, otherwise the whole seconds (at least 1) until the window ends. Adapters that
    share their counts between processes MUST count atomically, so several gateways enforce one
    limit. An adapter whose store is unreachable MUST fail open (allow) and MUST NOT raise.
    """

    limit: int
    window_seconds: int

    async def hit(self, key: str) -> tuple[bool, int]: ...


def window_index(now: float, window_seconds: int) -> int:
    return int(now // window_seconds)


def seconds_left(now: float, window_seconds: int) -> int:
    """Whole seconds until the window holding ``now`` ends, never less than 1."""
    end = (window_index(now, window_seconds) + 1) * window_seconds
    return max(1, math.ceil(end - now))


def verdict(count: int, limit: int, now: float, window_seconds: int) -> tuple[bool, int]:
    if count <= limit:
        return True, 0
    return False, seconds_left(now, window_seconds)


class MemoryRateLimiter:
    """One process's counts; only the current window is kept, so memory is bounded by its keys."""

    def __init__(self, limit: int, window_seconds: int = 60, *, clock: Clock = time.time) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    async def hit(self, key: str) -> tuple[bool, int]:
        now = self._clock()
        index = window_index(now, self.window_seconds)
        if index != self._window:
            self._window = index
            self._counts = {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return verdict(count, self.limit, now, self.window_seconds)


class RedisRateLimiter:
    """Counts in Redis (INCR and EXPIRE in one MULTI/EXEC) under ``<prefix>:<window>:<key>``."""

    def __init__(self, redis: Any, limit: int, window_seconds: int = 60, *,
                 prefix: str = "kilat:ratelimit", clock: Clock = time.time,
                 timeout_seconds: float = 0.5) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.prefix = prefix
        self._redis = redis
        from redis.exceptions import RedisError  # only the distributed profile needs redis

        self._redis_error = RedisError
        self._clock = clock
        self._timeout = timeout_seconds
        self._failing = False

    def key_for(self, key: str, now: float) -> str:
        return f"{self.prefix}:{window_index(now, self.window_seconds)}:{key}"

    async def hit(self, key: str) -> tuple[bool, int]:
        now = self._clock()
        name = self.key_for(key, now)
        try:
            async with asyncio.timeout(self._timeout):
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(name)
                    pipe.expire(name, self.window_seconds + 1)
                    count, _ = await pipe.execute()
        except (self._redis_error, OSError, TimeoutError) as exc:
            self._store_failed(exc)
            return True, 0
        self._store_recovered()
        return verdict(int(count), self.limit, now, self.window_seconds)

    def _store_failed(self, exc: Exception) -> None:
        # logged once per outage: a down Redis would otherwise log on every request
        if not self._failing:
            self._failing = True
            log.warning("rate limit store unreachable; allowing requests",
                        error=f"{type(exc).__name__}: {exc}")

    def _store_recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("rate limit store reachable again")


def build_rate_limiter(limit_per_minute: int, redis: Any = None, *,
                       prefix: str = "kilat:ratelimit") -> RateLimiter | None:
    """Redis when a client is given (distributed), memory otherwise; None when the limit is 0."""
    if limit_per_minute <= 0:
        return None
    if redis is not None:
        return RedisRateLimiter(redis, limit_per_minute, prefix=prefix)
    return MemoryRateLimiter(limit_per_minute)


class TokenBucket:
    """One connection's budget of messages: ``burst`` at once, refilled at ``rate`` per second
    (a WebSocket's client frames, say). Not shared between processes; ``now`` is the caller's
    monotonic clock."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
