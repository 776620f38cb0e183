"""The live side of tracking: pings in, frames out to the rooms of every instance.

The runner service owns GPS ingest: it judges every fix and publishes the accepted ones on
``runner.location_update``; a fix a runner sends over this socket goes to it raw, on
``runner.location_reported``, and comes back from it like an HTTP ping (naming its socket as
``source``, which gets no echo). Every tracking instance subscribes to ``runner.location_update``
(no queue group), so each one sees every accepted ping, keeps those in order within their active
trip, and fans them out to its own sockets. Pings wait in a bounded queue
(the oldest are dropped when it is full) for a background task, so the publisher - in the
embedded profile the runner's HTTP request itself - never waits for a trip lookup (a ping whose
trip is already known, with none queued before it, is handled at once). Each instance
also buffers the pings it accepted for the batch writer; the waypoint key is the ping itself
(booking, runner, recorded_at) and inserts skip duplicates, so a ping stored by two instances is
one row and a ping survives as long as one instance stays up. Chat and trip changes happen on one instance;
it delivers them to its own rooms and sends them on ``tracking.frames`` for the others, which
ignore their own messages by ``origin``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import weakref
from collections import Counter, deque
from collections.abc import Awaitable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog
from prometheus_client import Counter as MetricCounter
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.models import utcnow
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.tracking import frames, service
from kilat.services.tracking.directory import UNKNOWN, LiveTrip, TripDirectory
from kilat.services.tracking.domain import Fix, FixVerdict, GpsPolicy, judge_fix
from kilat.services.tracking.frames import TripSnapshot
from kilat.services.tracking.hub import Connection, Hub
from kilat.services.tracking.settings import TrackingSettings
from kilat.services.tracking.writer import WaypointRetention, WaypointWriter

log = structlog.get_logger(__name__)

PINGS = "runner.location_update"
REPORTED = "runner.location_reported"  # a socket's raw fixes, for the runner service to judge
FRAMES = "tracking.frames"
CLOSE_REVOKED = 4401
CLOSE_DISMISSED = 4403

PINGS_SEEN = MetricCounter("kilat_tracking_pings_total", "GPS pings seen", ["outcome"])
SEND_WATCH_SECONDS = 1.0
PINGS_PER_TURN = 256  # pings handled before the consumer lets other tasks run


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Ping:
    runner_id: uuid.UUID
    booking_id: uuid.UUID | None
    fix: Fix
    source: str | None = None

    @classmethod
    def parse(cls, payload: dict[str, Any]) -> Ping | None:
        """A ``runner.location_update`` payload, or None when it is not one."""
        try:
            booking = payload.get("booking_id")
            stamp = payload.get("timestamp")
            fix = Fix(
                latitude=float(payload["latitude"]),
                longitude=float(payload["longitude"]),
                recorded_at=_aware(datetime.fromisoformat(stamp)) if stamp else utcnow(),
                speed_kmh=_number(payload.get("speed_kmh")),
                heading_degrees=_number(payload.get("heading_degrees")),
                accuracy_m=_number(payload.get("accuracy_m")),
            )
            source = payload.get("source")
            return cls(uuid.UUID(str(payload["runner_id"])),
                       uuid.UUID(str(booking)) if booking else None, fix,
                       source if isinstance(source, str) else None)
        except (KeyError, TypeError, ValueError):
            return None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def reported_payload(trip: TripSnapshot, fix: Fix, source: str) -> dict[str, Any]:
    """A raw socket fix for the runner service, naming the socket that sent it."""
    return {
        "runner_id": str(trip.runner_id),
        "booking_id": str(trip.booking_id),
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "speed_kmh": fix.speed_kmh,
        "heading_degrees": fix.heading_degrees,
        "accuracy_m": fix.accuracy_m,
        "timestamp": fix.recorded_at.isoformat(),
        "source": source,
    }


def waypoint_row(trip: TripSnapshot, fix: Fix) -> dict[str, Any]:
    # instances storing the same ping make different ids; the first insert wins, so one id stays
    return {
        "id": uuid.uuid4(),
        "trip_id": trip.trip_id,
        "booking_id": trip.booking_id,
        "runner_id": trip.runner_id,
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "speed_kmh": fix.speed_kmh,
        "heading_degrees": fix.heading_degrees,
        "accuracy_m": fix.accuracy_m,
        "recorded_at": fix.recorded_at,
    }


class LiveTracking:
    def __init__(self, runtime, settings: TrackingSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.instance_id = uuid.uuid4().hex
        # the runner service judged the motion; a trip only needs its fixes in order and in time
        self.policy = GpsPolicy().trusting_motion()
        self.hub = Hub()
        self.trips = TripDirectory(runtime.database, idle_seconds=settings.trip_refresh_seconds,
                                   miss_ttl=settings.trip_miss_ttl_seconds)
        self.retention = WaypointRetention(runtime.database, settings)
        persist = partial(self._persist, interval=settings.updated_event_interval_seconds,
                          limit=settings.updated_events_per_batch)
        self.writer = WaypointWriter(runtime.database, settings, persist, self.retention)
        self.outcomes: Counter[str] = Counter()
        self._metrics: dict[str, Any] = {}
        self._pings: deque[Ping] = deque(maxlen=settings.ping_queue_limit)
        self._pings_waiting = asyncio.Event()
        self._draining = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._senders: weakref.WeakValueDictionary[str, Connection] = weakref.WeakValueDictionary()
        self._running = False

    @staticmethod
    async def _persist(session: AsyncSession, rows: list[dict], *, interval: float,
                       limit: int) -> None:
        await service.persist_waypoints(session, rows, now=utcnow(),
                                        update_interval=timedelta(seconds=interval),
                                        updates_per_batch=limit)

    async def start(self) -> None:
        await self.retention.run_once(utcnow())
        await self.trips.preload()
        await self.runtime.bus.subscribe_fast(PINGS, self.on_ping)
        await self.runtime.bus.subscribe_fast(FRAMES, self.on_frame)
        self.runtime.verifier.revocation_listeners.append(self._close_sockets_of)
        self._running = True
        self.runtime.spawn(self._consume_pings(), "ping-consumer")
        self.runtime.spawn(self.writer.run(), "waypoint-writer")
        self.runtime.spawn(self.retention.run(), "waypoint-retention")
        self.runtime.spawn(self._sweep_forever(), "trip-directory-sweep")
        self.runtime.spawn(self._watch_sends(), "socket-send-watch")

    async def stop(self) -> None:
        self._running = False
        with suppress(ValueError):
            self.runtime.verifier.revocation_listeners.remove(self._close_sockets_of)
        self.hub.close_all()
        await self.drain_pings()
        await self.writer.flush()

    def _close_sockets_of(self, user_id: uuid.UUID) -> None:
        """A banned account's open sockets close at once (new ones are refused at the upgrade)."""
        self.hub.dismiss_user(user_id, CLOSE_REVOKED, "account banned")

    # --- pings ---------------------------------------------------------------------------------

    async def on_ping(self, payload: dict[str, Any]) -> None:
        """Handle a ping at once when its trip (or its absence) is known and nothing waits before
        it; else queue it for the consumer. Never waits on a query."""
        if not self._running:
            return
        ping = Ping.parse(payload)
        if ping is None:
            return self._count("malformed")
        if not self._pings and not self._draining.locked():
            live = self.trips.cached(ping.booking_id, ping.runner_id)
            if live is not UNKNOWN:
                return self._take(ping, live)
        if len(self._pings) == self._pings.maxlen:
            self._count("dropped")
        self._pings.append(ping)
        self._pings_waiting.set()

    @property
    def pings_pending(self) -> int:
        """Pings queued or being handled (the drain under way counts as one)."""
        return len(self._pings) + (1 if self._draining.locked() else 0)

    async def _consume_pings(self) -> None:
        while True:
            await self._pings_waiting.wait()
            self._pings_waiting.clear()
            await self.drain_pings()

    async def drain_pings(self) -> int:
        """Handle every queued ping in arrival order, after any drain under way (one drainer at
        a time keeps the order); returns how many this call handled."""
        handled = 0
        async with self._draining:
            while self._pings:
                try:
                    await self._handle_ping(self._pings.popleft())
                except Exception as exc:  # one bad ping must not stop the consumer
                    stop_if_cancelled(exc)
                    log.warning("ping handling failed", error=str(exc))
                    self._count("failed")
                handled += 1
                if handled % PINGS_PER_TURN == 0:
                    await asyncio.sleep(0)
        return handled

    async def _handle_ping(self, ping: Ping) -> None:
        try:
            if ping.booking_id is not None:
                live = await self.trips.for_booking(ping.booking_id)
            else:
                live = await self.trips.for_runner(ping.runner_id)
        except Exception as exc:
            log.warning("trip lookup failed", error=str(exc))
            return self._count("lookup_failed")
        self._take(ping, live)

    def _take(self, ping: Ping, live: LiveTrip | None) -> None:
        if live is None or not live.snapshot.is_active or live.snapshot.runner_id != ping.runner_id:
            return self._count("no_active_trip")
        sender = self._senders.get(ping.source) if ping.source else None
        self.accept(live, ping.fix, sender=sender)

    def accept(self, live: LiveTrip, fix: Fix, *, sender: Connection | None = None) -> FixVerdict:
        """Keep a fix the runner service accepted when it is in order and within its trip; it
        goes to the room (but not back to the socket that sent it) and to the writer."""
        verdict = judge_fix(live.last_fix, fix, self.policy, now=utcnow(),
                            not_before=live.snapshot.started_at)
        self._count(verdict.value)
        if verdict is FixVerdict.ACCEPTED:
            text = live.moved_to(fix)
            self.hub.broadcast(str(live.snapshot.booking_id), text, skip=sender)
            self.writer.add(waypoint_row(live.snapshot, fix))
        return verdict

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] += 1
        metric = self._metrics.get(outcome)
        if metric is None:
            metric = self._metrics[outcome] = PINGS_SEEN.labels(outcome)
        metric.inc()

    # --- changes committed on this instance ----------------------------------------------------

    def trip_changed(self, change: service.TripChange) -> None:
        snapshot = change.snapshot
        self.trips.remember(snapshot)
        self._announce(snapshot.booking_id, frame=frames.status_frame(snapshot),
                       trip=snapshot.to_wire(), dismissed_runner_id=_str(change.dismissed_runner))

    def chat_posted(self, frame: dict[str, Any]) -> None:
        self._announce(uuid.UUID(frame["booking_id"]), frame=frame)

    def share_revoked(self, booking_id: uuid.UUID, share_id: uuid.UUID) -> None:
        self._announce(booking_id, revoked_share_id=str(share_id))

    def _announce(self, booking_id: uuid.UUID, **parts: Any) -> None:
        message = {"origin": self.instance_id, "booking_id": str(booking_id), **parts}
        self._apply(message, from_peer=False)
        self._spawn(self.runtime.bus.publish_fast(FRAMES, message))

    async def on_frame(self, message: dict[str, Any]) -> None:
        if message.get("origin") != self.instance_id:
            self._apply(message, from_peer=True)

    def _apply(self, message: dict[str, Any], *, from_peer: bool) -> None:
        booking_id = message["booking_id"]
        if from_peer and message.get("trip"):
            self.trips.remember(TripSnapshot.from_wire(message["trip"]))
        if message.get("frame"):
            # status and chat frames: only sockets that opted in (?frames=all) can parse them
            self.hub.broadcast(booking_id, json.dumps(message["frame"]), rich=True)
        if share_id := message.get("revoked_share_id"):
            self.hub.dismiss(booking_id, lambda v: str(v.share_id) == share_id,
                             CLOSE_REVOKED, "share link revoked")
        if runner_id := message.get("dismissed_runner_id"):
            self.hub.dismiss(booking_id, lambda v: str(v.user_id) == runner_id and v.party == "runner",
                             CLOSE_DISMISSED, "no longer assigned to this booking")

    # --- sockets -------------------------------------------------------------------------------

    def join(self, connection: Connection) -> None:
        """Enter the room and get the latest position at once (nothing can slip in between)."""
        live = self.trips.peek(connection.viewer.booking_id)
        self.hub.join(connection)
        if live is not None and live.latest_frame is not None:
            connection.offer(live.latest_frame)

    async def runner_located(self, live: LiveTrip, fix: Fix, sender: Connection) -> None:
        """A fix from the runner's socket goes to the runner service, which judges it as any
        ping and, when it accepts it, publishes it back on ``runner.location_update``."""
        source = f"{self.instance_id}.{id(sender)}"
        self._senders[source] = sender
        await self.runtime.bus.publish_fast(REPORTED, reported_payload(live.snapshot, fix, source))

    # --- plumbing ------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_sends(self) -> None:
        while True:
            await asyncio.sleep(SEND_WATCH_SECONDS)
            self.hub.dismiss_stuck(time.monotonic() - self.settings.socket_send_timeout_seconds)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.trip_refresh_seconds)
            try:
                await self.trips.refresh()
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("trip refresh failed", error=str(exc))
            self.trips.sweep(lambda booking_id: self.hub.viewers(str(booking_id)) > 0)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)
