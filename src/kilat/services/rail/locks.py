"""Seat locks: the fast path in front of the database's seat claims.

Port contract (``SeatLocks``):
- ``acquire`` MUST take every seat's lock for ``token`` until ``deadline`` or none of them, in one
  atomic step, and return the seats already locked by someone else (empty when acquired).
- ``extend`` MUST move the deadline of the seats only while ``token`` still holds each of them
  (compare-and-update); it returns False, changing nothing, otherwise.
- ``release`` MUST delete only the locks ``token`` holds (compare-and-delete).
- A lock MUST lapse on its own at ``deadline`` (the same instant the database row carries), so
  expiry never needs a scan.
The database stays the final guard: an adapter MAY accept what the database later refuses.
"""

from __future__ import annotations

import asyncio
import heapq
import time
import uuid
from datetime import datetime
from typing import Protocol


class SeatLocks(Protocol):
    async def acquire(self, journey_id: uuid.UUID, seat_ids: list[uuid.UUID], token: str,
                      deadline: datetime) -> list[uuid.UUID]: ...

    async def extend(self, journey_id: uuid.UUID, seat_ids: list[uuid.UUID], token: str,
                     deadline: datetime) -> bool: ...

    async def release(self, journey_id: uuid.UUID, seat_ids: list[uuid.UUID],
                      token: str) -> None: ...


class MemorySeatLocks:
    """Embedded profile (one process): the same contract in memory. It only spares the database
    writes that cannot succeed; the seat claims' primary key still decides, so a restart that
    forgets the map changes nothing. Lapsed locks leave through a heap ordered by deadline."""

    def __init__(self) -> None:
        self._locks: dict[tuple[uuid.UUID, uuid.UUID], tuple[str, float]] = {}
        self._deadlines: list[tuple[float, tuple[uuid.UUID, uuid.UUID], str]] = []

    def _prune(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            _, key, token = heapq.heappop(self._deadlines)
            held = self._locks.get(key)
            if held is not None and held[0] == token and held[1] <= now:
                del self._locks[key]

    def _set(self, key, token: str, deadline: float) -> None:
        self._locks[key] = (token, deadline)
        heapq.heappush(self._deadlines, (deadline, key, token))

    async def acquire(self, journey_id, seat_ids, token, deadline) -> list[uuid.UUID]:
        self._prune(time.time())
        taken = [seat for seat in seat_ids if (journey_id, seat) in self._locks]
        if not taken:
            for seat in seat_ids:
                self._set((journey_id, seat), token, deadline.timestamp())
        return taken

    async def extend(self, journey_id, seat_ids, token, deadline) -> bool:
        self._prune(time.time())
        keys = [(journey_id, seat) for seat in seat_ids]
        if any(self._locks.get(key, (token,))[0] != token for key in keys):
            return False
        for key in keys:
            self._set(key, token, deadline.timestamp())
        return True

    async def release(self, journey_id, seat_ids, token) -> None:
        for seat in seat_ids:
            held = self._locks.get((journey_id, seat))
            if held is not None and held[0] == token:
                del self._locks[(journey_id, seat)]


# Lua scripts in flight per process: well under redis-py's default pool of 100 connections
REDIS_CALLS = 32

_ACQUIRE = """
local taken = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then taken[#taken + 1] = i end
end
if #taken > 0 then return taken end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PXAT', ARGV[2])
end
return taken
"""

_EXTEND = """
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and holder ~= ARGV[1] then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'PXAT', ARGV[2])
end
return 1
"""

_RELEASE = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1
"""


class RedisSeatLocks:
    """Distributed profile: one key per seat of a journey, set by one Lua script for all or none.
    ``calls`` bounds the scripts in flight below the shared client's connection pool, so a crowd
    of contenders queues here (each script takes microseconds) instead of exhausting the pool."""

    def __init__(self, redis, prefix: str, calls: asyncio.Semaphore | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.calls = calls or asyncio.Semaphore(REDIS_CALLS)
        self._acquire = redis.register_script(_ACQUIRE)
        self._extend = redis.register_script(_EXTEND)
        self._release = redis.register_script(_RELEASE)

    def _keys(self, journey_id: uuid.UUID, seat_ids: list[uuid.UUID]) -> list[str]:
        # one hash tag per journey: a multi-seat script stays on one Redis Cluster slot
        return [f"{self.prefix}:seat:{{{journey_id}}}:{seat_id}" for seat_id in seat_ids]

    async def acquire(self, journey_id, seat_ids, token, deadline) -> list[uuid.UUID]:
        async with self.calls:
            taken = await self._acquire(keys=self._keys(journey_id, seat_ids),
                                        args=[token, _millis(deadline)])
        return [seat_ids[int(i) - 1] for i in taken]

    async def extend(self, journey_id, seat_ids, token, deadline) -> bool:
        async with self.calls:
            return bool(await self._extend(keys=self._keys(journey_id, seat_ids),
                                           args=[token, _millis(deadline)]))

    async def release(self, journey_id, seat_ids, token) -> None:
        async with self.calls:
            await self._release(keys=self._keys(journey_id, seat_ids), args=[token])


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
