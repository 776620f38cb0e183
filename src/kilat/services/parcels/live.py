"""Live side of parcels: the couriers' location index, telemetry ingest (fast path, persisted in
batches), and the tracking rooms (one per tracking number) fed across instances.

A fix never writes the database in its request: it moves the courier in the live index, caches
``parcels:courier:{id}:location`` in Redis (distributed), goes to the rooms of the courier's open
shipments through ``bus.publish_fast`` (every instance delivers to its own sockets) and waits in
a buffer that a background task writes to ``courier_location_events`` every
``telemetry_flush_seconds``. Status frames and session revocations travel the same way.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import insert, update
from starlette.websockets import WebSocket

from kilat.platform.errors import Conflict, not_found
from kilat.platform.geoindex import (
    Availability,
    LivePosition,
    LocationIndex,
    MemoryLocationIndex,
    RedisLocationIndex,
)
from kilat.platform.settings import Profile
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.parcels.models import Courier, LocationEvent
from kilat.services.parcels.domain import eta_minutes, next_stop
from kilat.services.parcels.repository import Room, Shipments
from kilat.services.parcels.settings import ParcelsSettings

log = structlog.get_logger(__name__)

FRAMES = "parcels.frames"
CLOSE_NORMAL = 1000
CLOSE_EXPIRED = 4401
CLOSE_TOO_SLOW = 1013
CLOSE_GOING_AWAY = 1001
REDIS_KEY = "{}:courier:{}:location"  # prefix, courier id: the latest fix, cached


def build_index(settings: ParcelsSettings, profile: Profile, redis: Any) -> LocationIndex:
    choice = settings.location_index
    if choice == "auto":
        choice = "redis" if profile is Profile.DISTRIBUTED and redis is not None else "memory"
    if choice == "redis":
        return RedisLocationIndex(redis, stale_after=settings.stale_after_seconds,
                                  prefix=f"{settings.redis_key_prefix}:geo")
    return MemoryLocationIndex(stale_after=settings.stale_after_seconds)


class Viewer:
    """One socket in a room: its session, when it expires, and its bounded send queue."""

    def __init__(self, websocket: WebSocket, room: str, token: str, expires_at: datetime,
                 limit: int) -> None:
        self.websocket, self.room, self.token, self.expires_at = websocket, room, token, expires_at
        self.limit = limit
        self.close_code: int | None = None
        self.close_reason = ""
        self._queue: deque[str] = deque()
        self._ready = asyncio.Event()

    def offer(self, text: str) -> None:
        if self.close_code is not None:
            return
        if len(self._queue) >= self.limit:
            self.dismiss(CLOSE_TOO_SLOW, "client too slow")
            return
        self._queue.append(text)
        self._ready.set()

    def dismiss(self, code: int, reason: str) -> None:
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
        self._ready.set()

    async def pump(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._queue and self.close_code is None:
                await self.websocket.send_text(self._queue.popleft())
            if self.close_code is not None:
                return


class LiveParcels:
    def __init__(self, runtime, settings: ParcelsSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.index = build_index(settings, runtime.settings.profile, runtime.infra.redis)
        self.rooms: dict[str, set[Viewer]] = {}
        self._buffer: list[dict[str, Any]] = []
        self._last: dict[uuid.UUID, tuple[float, float, datetime]] = {}
        self._known: dict[uuid.UUID, tuple[float, str | None, list[Room]]] = {}

    async def start(self) -> None:
        await self.runtime.bus.subscribe_fast(FRAMES, self._on_frame)
        self.runtime.spawn(self._flush_loop(), "telemetry-flush")
        self.runtime.spawn(self._expiry_loop(), "socket-expiry")

    async def stop(self) -> None:
        for room in tuple(self.rooms.values()):
            for viewer in tuple(room):
                viewer.dismiss(CLOSE_GOING_AWAY, "server shutting down")
        with suppress(Exception):
            await self.flush()

    # --- couriers ------------------------------------------------------------------------------

    async def courier_online(self, courier: Courier) -> None:
        self.forget(courier.user_id)
        if courier.last_latitude is None:
            return
        await self.index.add(LivePosition(str(courier.user_id), courier.last_latitude,
                                          courier.last_longitude, time.time(),
                                          Availability.AVAILABLE))

    async def courier_offline(self, courier_id: uuid.UUID) -> None:
        self.forget(courier_id)
        await self.index.remove(str(courier_id), time.time())

    async def nearby(self, latitude: float, longitude: float) -> list[uuid.UUID]:
        found = await self.index.nearby(latitude, longitude, self.settings.dispatch_radius_km,
                                        self.settings.dispatch_offer_count, time.time())
        return [uuid.UUID(member.member) for member in found]

    async def position(self, courier_id: uuid.UUID) -> tuple[float, float] | None:
        """Where the courier is now by the live index (its last fix, not yet written to the
        courier's row, which the telemetry flush updates later); None when it has no entry."""
        found = await self.index.get(str(courier_id), time.time())
        return None if found is None else (found.latitude, found.longitude)

    async def ingest(self, courier_id: uuid.UUID, fix: dict[str, Any]) -> int:
        """One fix of an online courier: live index, Redis cache, rooms, then the write buffer."""
        status, rooms = await self._courier(courier_id)
        if status is None:
            raise not_found("Courier", courier_id)
        if status != "online":
            raise Conflict("courier is offline", "go online before sending locations")
        member, now = str(courier_id), time.time()
        lat, lng = fix["latitude"], fix["longitude"]
        moved = await self.index.move(member, lat, lng, now)
        if moved is None:
            await self.index.add(LivePosition(member, lat, lng, now, Availability.AVAILABLE))
        recorded_at: datetime = fix["recorded_at"]
        await self._cache(courier_id, lat, lng, recorded_at)
        for room in rooms:
            stop, there = next_stop(room.status, room.pickup, room.dropoff)
            minutes = eta_minutes((lat, lng), there, self.settings.road_factor,
                                  self.settings.average_speed_kmh)
            await self.publish(room.tracking_number, {
                "type": "location", "tracking_number": room.tracking_number, "latitude": lat,
                "longitude": lng, "recorded_at": recorded_at.isoformat(), "next_stop": stop,
                "eta_minutes": minutes,
                "eta": (recorded_at + timedelta(minutes=minutes)).isoformat()})
        self._buffer.append({"id": uuid.uuid4(), "recorded_at": recorded_at,
                             "courier_id": courier_id,
                             "shipment_id": rooms[0].shipment_id if rooms else None, "latitude": lat,
                             "longitude": lng, "accuracy_m": fix.get("accuracy_m"),
                             "speed_kmh": fix.get("speed_kmh"),
                             "heading_degrees": fix.get("heading_degrees"),
                             "source": fix.get("source", "foreground")})
        self._last[courier_id] = (lat, lng, recorded_at)
        return len(rooms)

    async def _courier(self, courier_id: uuid.UUID) -> tuple[str | None, list[Room]]:
        """The courier's status and open shipments' rooms, read at most every
        ``courier_cache_seconds`` (this instance forgets them at once when it changes them)."""
        known = self._known.get(courier_id)
        if known is not None and known[0] > time.monotonic():
            return known[1], known[2]
        async with self.runtime.database.session(write=False) as session:
            courier = await session.get(Courier, courier_id)
            rooms = await Shipments(session).rooms_of_courier(courier_id) if courier else []
        status = courier.status if courier else None
        if len(self._known) > 100_000:
            self._known.clear()
        self._known[courier_id] = (time.monotonic() + self.settings.courier_cache_seconds,
                                   status, rooms)
        return status, rooms

    def forget(self, courier_id: uuid.UUID | None) -> None:
        self._known.pop(courier_id, None)

    async def _cache(self, courier_id: uuid.UUID, lat: float, lng: float, at: datetime) -> None:
        redis = self.runtime.infra.redis
        if redis is None:
            return
        with suppress(Exception):
            await redis.set(REDIS_KEY.format(self.settings.redis_key_prefix, courier_id),
                            json.dumps({"latitude": lat, "longitude": lng,
                                        "recorded_at": at.isoformat()}),
                            ex=int(self.settings.stale_after_seconds))

    async def flush(self) -> int:
        rows, self._buffer = self._buffer, []
        last, self._last = self._last, {}
        if not rows:
            return 0
        async with self.runtime.database.session() as session:
            await session.execute(insert(LocationEvent), rows)
            for courier_id, (lat, lng, at) in last.items():
                await session.execute(
                    update(Courier).where(Courier.user_id == courier_id)
                    .values(last_latitude=lat, last_longitude=lng, last_seen_at=at,
                            version=Courier.version + 1)
                    .execution_options(synchronize_session=False))
        return len(rows)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.telemetry_flush_seconds)
            try:
                await self.flush()
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("telemetry flush failed", error=str(exc)[:300])

    # --- rooms ---------------------------------------------------------------------------------

    async def publish(self, room: str, frame: dict[str, Any]) -> None:
        await self.runtime.bus.publish_fast(FRAMES, {"room": room, "frame": frame})

    def publish_status(self, room: str, status: str, at: datetime):
        return self.publish(room, {"type": "status", "tracking_number": room, "status": status,
                                   "occurred_at": at.isoformat()})

    def revoke(self, room: str, token: str):
        return self.runtime.bus.publish_fast(FRAMES, {"room": room, "revoke": token})

    async def _on_frame(self, message: dict[str, Any]) -> None:
        room = self.rooms.get(str(message.get("room")))
        if not room:
            return
        if "revoke" in message:
            for viewer in tuple(room):
                if viewer.token == message["revoke"]:
                    viewer.dismiss(CLOSE_EXPIRED, "tracking session revoked")
            return
        text = json.dumps(message.get("frame", {}))
        for viewer in tuple(room):
            viewer.offer(text)

    def join(self, viewer: Viewer) -> None:
        self.rooms.setdefault(viewer.room, set()).add(viewer)

    def leave(self, viewer: Viewer) -> None:
        room = self.rooms.get(viewer.room)
        if room is not None:
            room.discard(viewer)
            if not room:
                del self.rooms[viewer.room]

    def expire_sockets(self, now: datetime) -> int:
        expired = [v for room in self.rooms.values() for v in room if v.expires_at <= now]
        for viewer in expired:
            viewer.dismiss(CLOSE_EXPIRED, "tracking session expired")
        return len(expired)

    async def _expiry_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.expire_sockets(datetime.now(UTC))

    def viewers(self, room: str) -> int:
        return len(self.rooms.get(room, ()))
