"""Live runners: the location index, GPS ping ingest (telemetry fast path) and position flushing.

Every GPS fix is ingested here and judged by the kernel's one policy (``kilat.platform.geo``):
HTTP pings, and the fixes a runner streams over the tracking WebSocket, which tracking forwards
raw on ``runner.location_reported``. A ping never writes the database or the outbox: it updates
the index, an accepted move is published as ``runner.location_update`` with ``bus.publish_fast``
(tracking fans it out and stores it), and the last position stays in memory; a background task
writes the positions of all moved runners in one statement every ``location_flush_seconds``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kilat.platform.db import after_commit
from kilat.platform.errors import BadRequest, KilatError, ServiceUnavailable, not_found
from kilat.platform.geo import (
    MIN_INTERVAL_SECONDS,
    Fix,
    FixVerdict,
    is_possible_position,
    judge_fix,
)
from kilat.platform.geoindex import (
    Availability,
    LivePosition,
    LocationIndex,
    MemoryLocationIndex,
    NearbyMember,
    RedisLocationIndex,
    check_indexable,
    is_indexable,
)
from kilat.platform.settings import Profile
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.runner.domain import SessionStatus
from kilat.services.runner.repository import Candidate, RunnerRepository
from kilat.services.runner.schemas import LocationUpdate
from kilat.services.runner.settings import RunnerSettings

log = structlog.get_logger(__name__)

LOCATION_SUBJECT = "runner.location_update"
REPORTED_SUBJECT = "runner.location_reported"  # raw fixes from the tracking socket
MUST_BE_ONLINE = "runner must be online to update location"
_MIN_STEP = timedelta(seconds=MIN_INTERVAL_SECONDS)
# a buffered fix from year 1 is judged (the window refuses it), not overflowed by the clamp
_EARLIEST_CLAMPABLE = datetime.min.replace(tzinfo=UTC) + _MIN_STEP
OFFLINE_MEMORY_SECONDS = 2.0  # going online on another instance is seen after at most this
OFFLINE_MEMORY_SIZE = 10_000
IMPOSSIBLE_POSITION = "impossible coordinates"


def build_index(settings: RunnerSettings, profile: Profile, redis: Any) -> LocationIndex:
    choice = settings.location_index
    if choice == "auto":
        choice = "redis" if profile is Profile.DISTRIBUTED and redis is not None else "memory"
    if choice == "redis":
        if redis is None:
            raise RuntimeError("KILAT_RUNNER_LOCATION_INDEX=redis needs a Redis client")
        return RedisLocationIndex(redis, stale_after=settings.stale_after_seconds,
                                  prefix=settings.redis_key_prefix)
    return MemoryLocationIndex(stale_after=settings.stale_after_seconds,
                               cell_degrees=settings.memory_grid_degrees)


def check_position(latitude: float, longitude: float) -> None:
    if not is_possible_position(latitude, longitude):
        raise BadRequest(IMPOSSIBLE_POSITION,
                         "latitude must be in [-90, 90], longitude in [-180, 180], not (0, 0)")


def check_live_position(latitude: float, longitude: float) -> None:
    """A runner's own position: possible and within the range the location index holds."""
    check_position(latitude, longitude)
    check_indexable(latitude, longitude)


def availability_of(active_booking_id: uuid.UUID | None) -> Availability:
    return Availability.BUSY if active_booking_id else Availability.AVAILABLE


def attributes_of(profile_id: uuid.UUID, active_booking_id: uuid.UUID | None) -> dict[str, str]:
    attributes = {"profile_id": str(profile_id)}
    if active_booking_id:
        attributes["booking_id"] = str(active_booking_id)
    return attributes


class CandidateCache:
    """Runner rows with their crates for nearby search, kept ``ttl`` seconds in this process.

    The index stays the authority on who is online and free; the cache only spares the query for
    profile and crate data. A change made here forgets the runner when it is made and again when
    it commits, and a read that overlapped a forget is not kept, so this process never serves an
    older row after a commit; changes made by another process show within ``ttl`` seconds.
    """

    def __init__(self, ttl: float, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self.epoch = 0
        self._rows: OrderedDict[uuid.UUID, tuple[float, Candidate]] = OrderedDict()

    def split(self, user_ids: list[uuid.UUID], now: float) -> tuple[dict, list[uuid.UUID]]:
        found, missing = {}, []
        for user_id in user_ids:
            cached = self._rows.get(user_id)
            if cached is not None and cached[0] > now:
                found[user_id] = cached[1]
            else:
                missing.append(user_id)
        return found, missing

    def keep(self, candidates: dict[uuid.UUID, Candidate], now: float, read_epoch: int) -> None:
        if self.ttl <= 0 or read_epoch != self.epoch:
            return
        for user_id, candidate in candidates.items():
            self._rows[user_id] = (now + self.ttl, candidate)
            self._rows.move_to_end(user_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def forget(self, user_id: uuid.UUID) -> None:
        self.epoch += 1
        self._rows.pop(user_id, None)


@dataclass(frozen=True, slots=True)
class Basis:
    """The fix a ping is judged against, and the ``seen_at`` the index must still hold for it."""

    fix: Fix
    seen_at: float

    @classmethod
    def of(cls, position: LivePosition) -> Basis:
        return cls(Fix(position.latitude, position.longitude, _moment(position.seen_at)),
                   position.seen_at)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class LiveRunners:
    def __init__(self, settings: RunnerSettings, index: LocationIndex, database, bus, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.index = index
        self.database = database
        self.bus = bus
        self.clock = clock
        self.cache = CandidateCache(settings.candidate_cache_seconds,
                                    settings.candidate_cache_size)
        self._autocommit = async_sessionmaker(
            database.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False)
        self.policy = settings.gps_policy()
        self._pending: dict[uuid.UUID, tuple[float, float, float]] = {}
        self._last: dict[uuid.UUID, LivePosition] = {}  # this process's last write per runner
        # runners the database just said are offline (or unknown), until when: a phone that keeps
        # streaming fixes while offline costs one read per OFFLINE_MEMORY_SECONDS, not per fix
        self._offline: OrderedDict[uuid.UUID, tuple[float, Callable[[], KilatError]]] = \
            OrderedDict()

    # --- session changes (called by the service inside its transaction) ---

    async def online(self, session: AsyncSession, user_id: uuid.UUID, profile_id: uuid.UUID,
                     latitude: float, longitude: float,
                     active_booking_id: uuid.UUID | None) -> None:
        self.forget(user_id, session)
        self._last.pop(user_id, None)
        self._offline.pop(user_id, None)
        after_commit(session, lambda: self._offline.pop(user_id, None))
        await self.index.add(LivePosition(
            str(user_id), latitude, longitude, self.clock(), availability_of(active_booking_id),
            attributes_of(profile_id, active_booking_id)))

    async def offline(self, session: AsyncSession, user_id: uuid.UUID) -> None:
        self._pending.pop(user_id, None)
        self._last.pop(user_id, None)
        self.forget(user_id, session)
        await self.index.remove(str(user_id), self.clock())

    async def job_changed(self, session: AsyncSession, user_id: uuid.UUID, profile_id: uuid.UUID,
                          active_booking_id: uuid.UUID | None) -> None:
        self.forget(user_id, session)
        await self.index.set_availability(str(user_id), availability_of(active_booking_id),
                                          attributes_of(profile_id, active_booking_id))

    async def nearby(self, latitude: float, longitude: float, radius_km: float,
                     count: int) -> list[NearbyMember]:
        return await self.index.nearby(latitude, longitude, radius_km, count, self.clock())

    async def candidates(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, Candidate]:
        """Rows and crates of these runners: cached ones, the rest in one query."""
        now, epoch = self.clock(), self.cache.epoch
        found, missing = self.cache.split(user_ids, now)
        if missing:
            async with self._read_session() as session:
                loaded = await RunnerRepository(session).candidates(missing)
            self.cache.keep(loaded, now, epoch)
            found.update(loaded)
        return found

    def _read_session(self):
        # one statement needs no transaction: on PostgreSQL that spares BEGIN and COMMIT
        if self.database.is_sqlite:
            return self.database.session(write=False)
        return self._autocommit()

    def forget(self, user_id: uuid.UUID, session: AsyncSession | None = None) -> None:
        """This runner's profile, crates or record change in ``session``: search reads them
        again now and once more after the commit."""
        self.cache.forget(user_id)
        if session is not None:
            after_commit(session, lambda: self.cache.forget(user_id))

    # --- pings ---

    async def ingest(self, user_id: uuid.UUID, update: LocationUpdate,
                     source: str | None = None) -> FixVerdict:
        """Filter one GPS ping, move the runner in the index and publish it when it is accepted
        (with ``source``, the tracking socket it came from, so that socket gets no echo)."""
        check_live_position(update.latitude, update.longitude)
        now = self.clock()
        self._check_timestamp(update, now)
        # judged by receipt time: the server's clock, which the index's seen_at also uses
        ping = Fix(update.latitude, update.longitude, _moment(now), update.speed_kmh,
                   update.heading_degrees, update.accuracy_m)
        verdict, stored = await self._apply(str(user_id), ping, now,
                                            await self._basis(user_id, now))
        if verdict.keeps_alive and stored is None:
            # the index lost the runner after the basis was read (Redis flushed or restarted
            # empty): the database says whether it is online
            self._last.pop(user_id, None)
            verdict, stored = await self._apply(str(user_id), ping, now,
                                                await self._restore(user_id, now))
        if not verdict.keeps_alive:
            return verdict
        if stored is None:
            raise BadRequest(MUST_BE_ONLINE)
        self._last[user_id] = stored
        # a stationary runner is alive too: its row's location_updated_at is kept fresh (at
        # most once per flush) so the offline sweep never signs off a runner who is pinging
        self._pending[user_id] = (stored.latitude, stored.longitude, now)
        if verdict.moves:
            await self._publish(stored, update, now, source)
        return verdict

    async def ingest_batch(self, user_id: uuid.UUID,
                           updates: list[LocationUpdate]) -> list[FixVerdict]:
        """Filter a phone's buffered fixes by their own times, oldest first, then move the runner
        in the index once (to the newest accepted fix) and publish every accepted move in order.

        The verdicts come back in the request's order. The first fix is judged against the
        runner's last known position; each later one against the last fix that moved it."""
        now = self.clock()
        for update in updates:
            check_live_position(update.latitude, update.longitude)
            self._check_timestamp(update, now)
        basis = await self._basis(user_id, now)
        verdicts, moves, kept = self._judge_batch(updates, basis, _moment(now))
        if not kept:
            return verdicts
        newest = updates[moves[-1]] if moves else None
        stored = await self._settle(str(user_id), newest, now)
        if stored is None:  # the index lost the runner: the database says whether it is online
            self._last.pop(user_id, None)
            await self._restore(user_id, now)
            stored = await self._settle(str(user_id), newest, now)
        if stored is None:
            raise BadRequest(MUST_BE_ONLINE)
        self._last[user_id] = stored
        self._pending[user_id] = (stored.latitude, stored.longitude, now)
        for index in moves:
            await self._publish(stored, updates[index], now, None)
        return verdicts

    def _judge_batch(self, updates: list[LocationUpdate], basis: Basis,
                     now: datetime) -> tuple[list[FixVerdict], list[int], bool]:
        verdicts: list[FixVerdict] = [FixVerdict.OUT_OF_ORDER] * len(updates)
        moves: list[int] = []
        kept = False
        previous = basis.fix
        for index in sorted(range(len(updates)), key=lambda i: updates[i].timestamp):
            update = updates[index]
            fix = Fix(update.latitude, update.longitude, update.timestamp, update.speed_kmh,
                      update.heading_degrees, update.accuracy_m)
            if previous is basis.fix:
                # the basis carries its receipt time, not its fix time: as for a single ping,
                # a fix taken in the same instant counts a second later
                earliest = max(fix.recorded_at, _EARLIEST_CLAMPABLE) - _MIN_STEP
                previous = replace(basis.fix, recorded_at=min(basis.fix.recorded_at, earliest))
            verdict = judge_fix(previous, fix, self.policy, now=now)
            verdicts[index] = verdict
            kept = kept or verdict.keeps_alive
            if verdict.moves:
                moves.append(index)
                previous = fix
        return verdicts, moves, kept

    async def _settle(self, member: str, newest: LocationUpdate | None,
                      now: float) -> LivePosition | None:
        """The index entry after a batch: moved to its newest accepted fix, or kept alive. The
        batch's newest fix wins over a ping another process took meanwhile (no compare-and-set):
        the phone sent it last."""
        if newest is None:
            return await self.index.touch(member, now)
        return await self.index.move(member, newest.latitude, newest.longitude, now)

    async def on_reported(self, payload: dict[str, Any]) -> None:
        """A fix the runner sent over the tracking socket: ingested exactly as an HTTP ping."""
        try:
            user_id = uuid.UUID(str(payload["runner_id"]))
            update = LocationUpdate.model_validate(
                {k: payload.get(k) for k in LocationUpdate.model_fields if k in payload})
            verdict = await self.ingest(user_id, update, payload.get("source"))
        except (KeyError, ValueError, ValidationError, KilatError) as exc:
            log.info("socket fix refused", error=str(exc))
            return
        if not verdict.keeps_alive:
            log.debug("socket fix ignored", runner_id=str(user_id), reason=verdict.value)

    async def _basis(self, user_id: uuid.UUID, now: float) -> Basis:
        """What a ping is judged against: this process's last write for the runner while recent
        (the move then checks nobody wrote since), else the index, else the database row."""
        last = self._last.get(user_id)
        if last is not None and last.seen_at >= now - self.settings.stale_after_seconds:
            return Basis.of(last)
        stored = await self.index.get(str(user_id), now)
        if stored is not None:
            return Basis.of(stored)
        return await self._restore(user_id, now)

    async def _apply(self, member: str, ping: Fix, at: float, basis: Basis,
                     retries: int = 1) -> tuple[FixVerdict, LivePosition | None]:
        # receipt times cannot be out of order: a ping in the same instant counts a second later
        earliest = ping.recorded_at - timedelta(seconds=MIN_INTERVAL_SECONDS)
        previous = replace(basis.fix, recorded_at=min(basis.fix.recorded_at, earliest))
        verdict = judge_fix(previous, ping, self.policy, now=ping.recorded_at)
        if not verdict.keeps_alive:
            return verdict, None
        if not verdict.moves:
            return verdict, await self.index.touch(member, at)
        stored = await self.index.move(member, ping.latitude, ping.longitude, at,
                                       if_seen_at=basis.seen_at if retries else None)
        if stored is None or stored.seen_at == at:
            return verdict, stored
        # another process took a newer ping for this runner: judge against that one instead
        return await self._apply(member, ping, at, Basis.of(stored), retries - 1)

    def _check_timestamp(self, update: LocationUpdate, now: float) -> None:
        if update.timestamp is None:
            return
        if update.timestamp.timestamp() > now + self.settings.gps_max_clock_skew_seconds:
            raise BadRequest("timestamp is in the future", "send the time the fix was taken")

    async def _restore(self, user_id: uuid.UUID, now: float) -> Basis:
        """The index lost the runner (restart, stale): put it back from its database row."""
        remembered = self._offline.get(user_id)
        if remembered is not None and remembered[0] > now:
            raise remembered[1]()
        async with self.database.session(write=False) as session:
            runner = await RunnerRepository(session).by_user(user_id)
        if runner is None:
            raise self._remember_offline(user_id, now, lambda: not_found("Runner", user_id))
        if runner.session_status != SessionStatus.ACTIVE or runner.current_lat is None:
            raise self._remember_offline(user_id, now, lambda: BadRequest(MUST_BE_ONLINE))
        restored = await self.index.restore(LivePosition(
            str(user_id), runner.current_lat, runner.current_lng, now,
            availability_of(runner.active_booking_id),
            attributes_of(runner.id, runner.active_booking_id)))
        if restored is None:
            raise BadRequest(MUST_BE_ONLINE)
        if restored.seen_at != now:  # another request put it back first
            return Basis.of(restored)
        at = runner.location_updated_at.timestamp() if runner.location_updated_at else now
        return Basis(Fix(runner.current_lat, runner.current_lng, _moment(at)), now)

    def _remember_offline(self, user_id: uuid.UUID, now: float,
                          error: Callable[[], KilatError]) -> KilatError:
        self._offline[user_id] = (now + OFFLINE_MEMORY_SECONDS, error)
        self._offline.move_to_end(user_id)
        while len(self._offline) > OFFLINE_MEMORY_SIZE:
            self._offline.popitem(last=False)
        return error()

    async def _publish(self, stored: LivePosition, update: LocationUpdate, now: float,
                       source: str | None) -> None:
        taken_at = update.timestamp or datetime.fromtimestamp(now, UTC)
        payload = {
            "runner_id": stored.member,
            "runner_profile_id": stored.attributes.get("profile_id"),
            "booking_id": stored.attributes.get("booking_id"),
            "latitude": update.latitude,
            "longitude": update.longitude,
            "speed_kmh": update.speed_kmh,
            "heading_degrees": update.heading_degrees,
            "accuracy_m": update.accuracy_m,
            "timestamp": taken_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        }
        if source:
            payload["source"] = source
        try:
            await self.bus.publish_fast(LOCATION_SUBJECT, payload)
        except Exception as exc:  # telemetry may be lost; the ping itself was applied
            log.warning("location publish failed", runner_id=stored.member, error=str(exc))

    # --- background work ---

    async def flush_positions(self) -> int:
        """Write the last accepted position of every runner that moved since the last flush."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, {}
        rows = [(uid, lat, lng, datetime.fromtimestamp(at, UTC))
                for uid, (lat, lng, at) in pending.items()]
        try:
            async with self.database.session() as session:
                await RunnerRepository(session).store_positions(rows)
        except Exception:
            for uid, value in pending.items():
                self._pending.setdefault(uid, value)
            raise
        return len(rows)

    async def rebuild_if_lost(self) -> int:
        """Put the runners the database says are online and recently seen back into an index that
        lost its data (a new process's memory, Redis flushed or restarted empty); how many."""
        if not await self.index.lost_data():
            return 0
        since = datetime.fromtimestamp(self.clock(), UTC) - timedelta(
            seconds=self.settings.stale_after_seconds)
        async with self.database.session(write=False) as session:
            rows = await RunnerRepository(session).recently_online(since)
        restored = 0
        for row in rows:
            if not is_indexable(row.current_lat, row.current_lng):
                continue  # stored before positions beyond MAX_LATITUDE were refused
            await self.index.restore(LivePosition(
                str(row.user_id), row.current_lat, row.current_lng,
                row.location_updated_at.timestamp(), availability_of(row.active_booking_id),
                attributes_of(row.id, row.active_booking_id)))
            restored += 1
        await self.index.mark_intact()
        if restored:
            log.info("live index rebuilt from the database", runners=restored)
        return restored

    async def run_flusher(self) -> None:
        await self.every(self.settings.location_flush_seconds, self.flush_positions, "flush")

    async def purge(self) -> int:
        """Drop stale runners from the index and this process's memory of its last writes."""
        now = self.clock()
        cutoff = now - self.settings.stale_after_seconds
        for user_id in [u for u, p in self._last.items() if p.seen_at < cutoff]:
            del self._last[user_id]
        return await self.index.purge_stale(now)

    async def run_purger(self) -> None:
        await self.every(self.settings.purge_interval_seconds, self.purge, "purge")

    async def run_rebuilder(self) -> None:
        await self.every(self.settings.rebuild_check_seconds, self.rebuild_if_lost, "rebuild")

    async def every(self, seconds: float, work, name: str) -> None:
        """Run ``work`` every ``seconds`` for as long as the service runs; failures are logged."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("live runner task failed", task=name, error=str(exc))


async def start_live(runtime) -> None:
    live: LiveRunners = runtime.context.live
    runtime.readiness_probes["live_index"] = live.index.ping
    await runtime.bus.subscribe_fast(REPORTED_SUBJECT, live.on_reported)
    try:
        await live.rebuild_if_lost()
    except ServiceUnavailable as exc:  # the rebuild task tries again once the index answers
        log.warning("live index rebuild failed", error=exc.detail)
    runtime.spawn(live.run_rebuilder(), "location-rebuild")
    runtime.spawn(live.run_flusher(), "location-flush")
    runtime.spawn(live.run_purger(), "location-purge")


async def stop_live(runtime) -> None:
    live: LiveRunners = runtime.context.live
    try:
        await live.flush_positions()
    except Exception as exc:
        log.warning("final location flush failed", error=str(exc))
