"""What a rides process keeps running: the live index of drivers, the sockets of this instance
(frames fanned out to every instance through the bus's fast path), and the deadline worker that
expires offers, re-dispatches requests and lapses unconfirmed matches."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.db import after_commit
from kilat.platform.errors import ServiceUnavailable
from kilat.platform.geoindex import (
    Availability,
    LivePosition,
    LocationIndex,
    MemoryLocationIndex,
    RedisLocationIndex,
    UnindexablePosition,
    is_indexable,
)
from kilat.platform.models import utcnow
from kilat.platform.settings import Profile
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.rides.hub import CLOSE_REVOKED, Hub
from kilat.services.rides.repository import Drivers, Frames
from kilat.services.rides.settings import RidesSettings

log = structlog.get_logger(__name__)

FRAMES_SUBJECT = "rides.frames"
DUE_BATCH = 50
# every Redis key of the index expires a day after the last housekeeping pass touched it: keys of
# a service gone for good do not linger, and a live one rebuilds the index if they ever lapse
KEY_TTL_SECONDS = 86_400


def build_index(settings: RidesSettings, profile: Profile, redis: Any,
                namespace: str) -> LocationIndex:
    choice = settings.location_index
    if choice == "auto":
        choice = "redis" if profile is Profile.DISTRIBUTED and redis is not None else "memory"
    if choice == "redis":
        if redis is None:
            raise RuntimeError("KILAT_RIDES_LOCATION_INDEX=redis needs a Redis client")
        return RedisLocationIndex(redis, stale_after=settings.beacon_stale_seconds,
                                  prefix=settings.key_prefix(namespace))
    return MemoryLocationIndex(stale_after=settings.beacon_stale_seconds)


def frame(event: str, data: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
    body = {"event": event, "data": data}
    return body if seq is None else body | {"seq": seq}


class LiveRides:
    def __init__(self, runtime, settings: RidesSettings, index: LocationIndex) -> None:
        self.runtime = runtime
        self.settings = settings
        self.index = index
        self.hub = Hub()
        self.instance_id = uuid.uuid4().hex
        self.clock: Callable[[], float] = time.time
        self._due = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        # the deadline worker's step, set by the service module (it needs the whole service)
        self.process_due: Callable[[datetime], Awaitable[int]] | None = None

    # --- frames ------------------------------------------------------------------------------

    async def tell(self, session: AsyncSession, user_id: uuid.UUID, event: str,
                   data: dict[str, Any]) -> None:
        """A frame for ``user_id``'s sockets, stored with the change (for replay) and sent to
        every instance once the transaction commits."""
        await self.tell_many(session, [(user_id, event, data)])

    async def tell_many(self, session: AsyncSession,
                        frames: list[tuple[uuid.UUID, str, dict[str, Any]]]) -> None:
        if not frames:
            return
        stored = await Frames(session).add_many(frames, utcnow())
        messages = [{"user_id": str(row.user_id), "frame": frame(row.event, row.data, row.seq)}
                    for row in stored]
        after_commit(session, lambda: self._publish_all(messages))

    async def _publish_all(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self._publish(message)

    def telemetry(self, user_id: uuid.UUID, event: str, data: dict[str, Any]) -> None:
        """A frame not worth storing (a live position): sent now, lost if nobody listens."""
        self._spawn(self._publish({"user_id": str(user_id), "frame": frame(event, data)}))

    async def _publish(self, message: dict[str, Any]) -> None:
        self._deliver(message)
        await self.runtime.bus.publish_fast(FRAMES_SUBJECT, message | {"origin": self.instance_id})

    async def on_frame(self, message: dict[str, Any]) -> None:
        if message.get("origin") != self.instance_id:
            self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        with suppress(ValueError, KeyError):
            self.hub.deliver(uuid.UUID(message["user_id"]), message["frame"])

    async def replay(self, user_id: uuid.UUID, since: int) -> list[dict[str, Any]]:
        async with self.runtime.database.session(write=False) as session:
            rows = await Frames(session).since(user_id, since, self.settings.replay_limit)
        return [frame(row.event, row.data, row.seq) for row in rows]

    # --- live index ----------------------------------------------------------------------------

    def now_epoch(self) -> float:
        return self.clock()

    async def place(self, driver_id: uuid.UUID, latitude: float, longitude: float,
                    availability: Availability) -> None:
        await self.index.add(LivePosition(str(driver_id), latitude, longitude, self.clock(),
                                          availability))

    async def set_busy(self, driver_id: uuid.UUID, busy: bool) -> None:
        state = Availability.BUSY if busy else Availability.AVAILABLE
        try:
            await self.index.set_availability(str(driver_id), state, {})
        except ServiceUnavailable as exc:  # a claimed driver offered anyway cannot accept
            log.warning("live index not updated", driver=str(driver_id), error=exc.detail)

    async def moved(self, driver_id: uuid.UUID, latitude: float, longitude: float) -> None:
        """A driver on a ride stays fresh in the index where the ride took them, so that once it
        ends they are matched from there, not from their last beacon."""
        try:
            await self.index.move(str(driver_id), latitude, longitude, self.clock())
        except (ServiceUnavailable, UnindexablePosition) as exc:
            log.warning("live index not moved", driver=str(driver_id), error=exc.detail)

    async def rebuild_if_lost(self) -> int:
        """Put drivers whose beacon is recent back into an index that lost its data."""
        if not await self.index.lost_data():
            return 0
        since = datetime.fromtimestamp(self.clock(), UTC) - timedelta(
            seconds=self.settings.beacon_stale_seconds)
        async with self.runtime.database.session(write=False) as session:
            drivers = await Drivers(session).recently_available(since)
        for driver in drivers:
            if driver.latitude is None or not is_indexable(driver.latitude, driver.longitude):
                continue
            await self.index.restore(LivePosition(str(driver.user_id), driver.latitude,
                                                  driver.longitude, driver.beacon_at.timestamp()))
        await self.index.mark_intact()
        return len(drivers)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self.runtime.readiness_probes["live_index"] = self.index.ping
        await self.runtime.bus.subscribe_fast(FRAMES_SUBJECT, self.on_frame)
        self.runtime.verifier.revocation_listeners.append(self._close_sockets_of)
        try:
            await self.rebuild_if_lost()
        except ServiceUnavailable as exc:
            log.warning("live index rebuild failed", error=exc.detail)
        self.runtime.spawn(self._deadlines(), "rides-deadlines")
        self.runtime.spawn(self._every(self.settings.purge_interval_seconds, self.housekeeping,
                                       "housekeeping"), "rides-housekeeping")

    async def stop(self) -> None:
        with suppress(ValueError):
            self.runtime.verifier.revocation_listeners.remove(self._close_sockets_of)
        self.hub.close_all()

    def _close_sockets_of(self, user_id: uuid.UUID) -> None:
        self.hub.dismiss_user(user_id, CLOSE_REVOKED, "account banned")

    def wake(self) -> None:
        """Run the deadline worker now (a deadline was brought forward)."""
        self._due.set()

    async def _deadlines(self) -> None:
        """The deadline queue: requests whose ``deadline_at`` has come, claimed row by row so
        several instances share the work; sleeps until the next poll or a wake-up."""
        while True:
            try:
                while self.process_due is not None:
                    if await self.process_due(utcnow()) < DUE_BATCH:
                        break
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("rides deadline work failed", error=str(exc))
            with suppress(TimeoutError):
                await asyncio.wait_for(self._due.wait(), self.settings.deadline_poll_seconds)
            self._due.clear()

    async def housekeeping(self) -> None:
        """Drop stale drivers, rebuild a lost index, keep the Redis keys' TTL, forget old frames."""
        await self.index.purge_stale(self.clock())
        await self.rebuild_if_lost()
        if isinstance(self.index, RedisLocationIndex):
            for key in (*self.index.keys, self.index.intact_key):
                await self.index.redis.expire(key, KEY_TTL_SECONDS)
        cutoff = utcnow() - timedelta(hours=self.settings.frame_retention_hours)
        async with self.runtime.database.session() as session:
            await Frames(session).forget_before(cutoff)

    async def _every(self, seconds: float, work, name: str) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("rides task failed", task=name, error=str(exc))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
