"""This instance's view of the trips: who may watch, who may ping, where the runner was last."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Callable

from kilat.platform.models import utcnow
from kilat.services.tracking import frames, service
from kilat.services.tracking.domain import Fix
from kilat.services.tracking.frames import TripSnapshot
from kilat.services.tracking.repository import Trips


class LiveTrip:
    """A trip as this instance knows it, with the last accepted fix for the GPS filter."""

    __slots__ = ("snapshot", "last_fix", "latest_frame", "loaded_at")

    def __init__(self, snapshot: TripSnapshot, loaded_at: float) -> None:
        self.snapshot = snapshot
        self.last_fix: Fix | None = None
        self.latest_frame: str | None = None
        self.loaded_at = loaded_at
        if snapshot.last_fix is not None:
            self.moved_to(snapshot.last_fix)

    def moved_to(self, fix: Fix) -> str:
        self.last_fix = fix
        text = json.dumps(frames.location_frame(self.snapshot.booking_id, self.snapshot.runner_id, fix))
        self.latest_frame = text
        return text


MAX_MISSES = 500_000
UNKNOWN = object()


class TripDirectory:
    """Trips by booking and active trips by runner: all active ones loaded at start, others on
    first use; kept current by the changes this or another instance commits, and checked against
    the database in bulk every ``refresh`` in case a change from another instance was lost.

    A runner found without an active trip stays known as such until a trip naming them is
    remembered (a trip starts on some instance, or the periodic refresh finds it): a runner pings
    every few seconds whether or not they have a trip, and each ping must not cost a query. A
    booking without a trip is only remembered for ``miss_ttl`` seconds.
    """

    def __init__(self, database, *, idle_seconds: float, miss_ttl: float) -> None:
        self.database = database
        self.idle_seconds = idle_seconds
        self.miss_ttl = miss_ttl
        self._by_booking: dict[uuid.UUID, LiveTrip] = {}
        self._runner_booking: dict[uuid.UUID, uuid.UUID] = {}
        self._misses: dict[tuple[str, uuid.UUID], float] = {}
        self._loading: dict[tuple[str, uuid.UUID], asyncio.Future] = {}

    def peek(self, booking_id: uuid.UUID) -> LiveTrip | None:
        return self._by_booking.get(booking_id)

    async def for_booking(self, booking_id: uuid.UUID) -> LiveTrip | None:
        live = self._by_booking.get(booking_id)
        if live is not None:
            return live
        return await self._load(("booking", booking_id),
                                lambda trips: trips.latest_for_booking(booking_id))

    async def for_runner(self, runner_id: uuid.UUID) -> LiveTrip | None:
        live = self._by_booking.get(self._runner_booking.get(runner_id))
        if live is not None and live.snapshot.is_active and live.snapshot.runner_id == runner_id:
            return live
        return await self._load(("runner", runner_id), lambda trips: trips.active_for_runner(runner_id))

    def cached(self, booking_id: uuid.UUID | None, runner_id: uuid.UUID) -> LiveTrip | None | object:
        """What ``for_booking`` (or ``for_runner`` without a booking) would answer without a
        query: the trip, None when known to have none, or ``UNKNOWN`` when a lookup is needed."""
        if booking_id is not None:
            live = self._by_booking.get(booking_id)
            key = ("booking", booking_id)
        else:
            live = self._by_booking.get(self._runner_booking.get(runner_id))
            if live is not None and not (live.snapshot.is_active and live.snapshot.runner_id == runner_id):
                live = None
            key = ("runner", runner_id)
        if live is not None:
            return live
        return None if self._misses.get(key, 0) > time.monotonic() else UNKNOWN

    def knows_no_trip_for_runner(self, runner_id: uuid.UUID) -> bool:
        """True when this runner is known to have no active trip (no query needed to say so)."""
        return self._misses.get(("runner", runner_id), 0) > time.monotonic()

    async def _load(self, key: tuple[str, uuid.UUID], query) -> LiveTrip | None:
        if self._misses.get(key, 0) > time.monotonic():
            return None
        waiting = self._loading.get(key)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        live = None
        try:
            async with self.database.session(write=False) as session:
                trip = await query(Trips(session))
                found = None if trip is None else await service.snapshot(session, trip)
            live = None if found is None else self.remember(found)
            if live is None:
                # a trip committed meanwhile is in the maps, which are consulted before misses
                self._remember_miss(key)
        finally:
            # whoever waited on this lookup gets nothing when it failed; the caller gets the error
            del self._loading[key]
            future.set_result(live)
        return live

    def _remember_miss(self, key: tuple[str, uuid.UUID]) -> None:
        if len(self._misses) >= MAX_MISSES:
            self._misses.clear()
        until = math.inf if key[0] == "runner" else time.monotonic() + self.miss_ttl
        self._misses[key] = until

    async def preload(self) -> int:
        """Load every active trip at once, so the first pings after a start need no lookups."""
        async with self.database.session(write=False) as session:
            snapshots = await service.active_snapshots(session, utcnow())
        for snapshot in snapshots:
            self.remember(snapshot)
        return len(snapshots)

    async def refresh(self) -> int:
        """Re-read the active trips and the ones this instance still thinks active (two queries,
        whatever the number of trips); returns how many were corrected."""
        believed = {live.snapshot.trip_id: live.snapshot for live in self._by_booking.values()
                    if live.snapshot.is_active}
        async with self.database.session(write=False) as session:
            trips = Trips(session)
            current = await trips.all_active()
            still_active = {trip.id for trip in current}
            gone = await trips.by_ids([i for i in believed if i not in still_active])
        changed = 0
        for trip in (*current, *gone):
            snapshot = TripSnapshot.of(trip)
            known = believed.get(trip.id)
            if known is None or (known.status, known.runner_id) != (snapshot.status, snapshot.runner_id):
                changed += 1
            self.remember(snapshot)
        return changed

    def remember(self, snapshot: TripSnapshot) -> LiveTrip:
        """Take a committed trip state; an older trip never replaces a newer one of the booking."""
        now = time.monotonic()
        live = self._by_booking.get(snapshot.booking_id)
        if live is not None and live.snapshot.trip_id == snapshot.trip_id:
            if snapshot.version < live.snapshot.version:
                return live
            live.snapshot, live.loaded_at = snapshot, now
            fix, known = snapshot.last_fix, live.last_fix
            if fix is not None and (known is None or fix.recorded_at > known.recorded_at):
                live.moved_to(fix)
        elif live is not None and snapshot.started_at < live.snapshot.started_at:
            return live
        else:
            live = LiveTrip(snapshot, now)
            self._by_booking[snapshot.booking_id] = live
        self._index_runner(snapshot)
        self._misses.pop(("booking", snapshot.booking_id), None)
        self._misses.pop(("runner", snapshot.runner_id), None)
        return live

    def _index_runner(self, snapshot: TripSnapshot) -> None:
        if snapshot.is_active:
            self._runner_booking[snapshot.runner_id] = snapshot.booking_id
        elif self._runner_booking.get(snapshot.runner_id) == snapshot.booking_id:
            del self._runner_booking[snapshot.runner_id]

    def sweep(self, watched: Callable[[uuid.UUID], bool]) -> int:
        """Forget ended trips nobody watches and expired misses; returns trips forgotten."""
        now = time.monotonic()
        stale = [b for b, live in self._by_booking.items()
                 if not live.snapshot.is_active and now - live.loaded_at >= self.idle_seconds
                 and not watched(b)]
        for booking_id in stale:
            del self._by_booking[booking_id]
        self._misses = {k: until for k, until in self._misses.items() if until > now}
        return len(stale)
