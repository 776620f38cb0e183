"""The search cache: answers per (from, to, date), forgotten when a hold or booking on that date
changes availability. Each date has a generation number that a change bumps, so invalidation never
scans keys: a reader takes the generation first and reads and writes under it, so an answer
computed before a change is never stored as current; old generations lapse with their TTL."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date
from typing import Any, Protocol


class SearchCache(Protocol):
    async def generation(self, day: date) -> int: ...

    async def get(self, origin: str, destination: str, day: date,
                  generation: int) -> Any | None: ...

    async def put(self, origin: str, destination: str, day: date, generation: int,
                  value: Any) -> None: ...

    async def forget(self, day: date) -> None: ...


class MemorySearchCache:
    def __init__(self, ttl: float, max_entries: int = 2048) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._generations: dict[date, int] = {}
        self._entries: dict[tuple[str, str, date, int], tuple[float, Any]] = {}

    async def generation(self, day):
        return self._generations.get(day, 0)

    async def get(self, origin, destination, day, generation):
        found = self._entries.get((origin, destination, day, generation))
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    async def put(self, origin, destination, day, generation, value) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[(origin, destination, day, generation)] = (time.monotonic() + self.ttl, value)

    async def forget(self, day) -> None:
        self._generations[day] = self._generations.get(day, 0) + 1


class RedisSearchCache:
    """``calls`` bounds the commands in flight (shared with the seat locks), below the pool."""

    def __init__(self, redis, prefix: str, ttl: float, calls: asyncio.Semaphore) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl
        self.calls = calls

    async def generation(self, day):
        async with self.calls:
            return int(await self.redis.get(f"{self.prefix}:gen:{day}") or 0)

    async def get(self, origin, destination, day, generation):
        async with self.calls:
            raw = await self.redis.get(
                f"{self.prefix}:search:{origin}:{destination}:{day}:{generation}")
        return None if raw is None else json.loads(raw)

    async def put(self, origin, destination, day, generation, value) -> None:
        if self.ttl <= 0:
            return
        async with self.calls:
            await self.redis.set(f"{self.prefix}:search:{origin}:{destination}:{day}:{generation}",
                                 json.dumps(value, default=str), px=int(self.ttl * 1000))

    async def forget(self, day) -> None:
        key = f"{self.prefix}:gen:{day}"
        async with self.calls:
            await self.redis.incr(key)
            await self.redis.expire(key, 60 * 60 * 24 * 40)
