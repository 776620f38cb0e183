"""Waypoints are stored in batches (never one transaction per ping), once per ping even with
several instances, with throttled ``tracking.updated`` events and a retention period."""

import asyncio
import uuid
from contextlib import AsyncExitStack, contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from kilat.platform.runtime import ServiceRuntime
from kilat.services.tracking import descriptor
from kilat.services.tracking.models import waypoints
from kilat.services.tracking.repository import Waypoints
from tests.service.tracking.support import (
    Trip,
    deliver,
    live,
    now,
    path,
    recorded,
    wait_for,
)
from tests.support.harness import running_service

PINGS = "runner.location_update"


@contextmanager
def counting_waypoint_inserts(runtime: ServiceRuntime):
    """Counts INSERT statements into the waypoint table (an executemany counts once)."""
    calls = []

    def before(_conn, _cursor, statement, _params, _context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO TRIP_WAYPOINTS"):
            calls.append(executemany)

    engine = runtime.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield calls
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def stored(runtime: ServiceRuntime) -> int:
    async with runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(waypoints))


async def test_n_pings_become_n_waypoints_in_far_fewer_transactions(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_WAYPOINT_FLUSH_SECONDS", "0.2")
    async with running_service(descriptor, infra) as (runtime, _client):
        trips = [Trip(infra) for _ in range(10)]
        for trip in trips:
            await deliver(runtime, trip.accepted())
        with counting_waypoint_inserts(runtime) as inserts:
            for step in path(30):
                for trip in trips:
                    await runtime.bus.publish_fast(PINGS, trip.ping(*step))

            async def all_stored():
                # the writer counts a batch just after its commit, so wait for both
                return live(runtime).writer.stats.written == 300 and await stored(runtime) == 300

            await wait_for(all_stored)
        stats = live(runtime).writer.stats
        assert stats.written == 300 and stats.transactions <= 3
        assert 1 <= len(inserts) <= 3


async def test_a_full_batch_is_written_before_the_timer(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_WAYPOINT_FLUSH_SECONDS", "30")
    monkeypatch.setenv("KILAT_TRACKING_WAYPOINT_BATCH_SIZE", "20")
    async with running_service(descriptor, infra) as (runtime, _client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        for step in path(20):
            await runtime.bus.publish_fast(PINGS, trip.ping(*step))

        async def batch_written():
            return live(runtime).writer.stats.written == 20 and await stored(runtime) == 20

        await wait_for(batch_written, timeout=3)
        assert live(runtime).writer.stats.transactions == 1


async def test_two_instances_on_one_database_store_each_ping_once(infra):
    url = f"sqlite+aiosqlite:///{infra.settings.data_dir / 'shared-tracking.db'}"
    async with AsyncExitStack() as stack:
        first, _ = await stack.enter_async_context(running_service(descriptor, infra, database_url=url))
        second = ServiceRuntime(descriptor, infra, database_url=url)
        await second.start()
        stack.push_async_callback(second.stop)
        trip = Trip(infra)
        await deliver(first, trip.accepted())
        for step in path(12):
            await infra.bus.publish_fast(PINGS, trip.ping(*step))
        await live(first).drain_pings()
        await live(second).drain_pings()
        assert live(first).outcomes["accepted"] == live(second).outcomes["accepted"] == 12
        await live(first).writer.flush()
        await live(second).writer.flush()
        assert live(first).writer.stats.written == live(second).writer.stats.written == 12
        assert await stored(first) == 12


async def test_tracking_updated_is_throttled_per_trip_not_sent_per_ping(infra):
    async with running_service(descriptor, infra) as (runtime, _client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        steps = path(10)
        for step in steps[:5]:
            await runtime.bus.publish_fast(PINGS, trip.ping(*step))
        await live(runtime).drain_pings()
        await live(runtime).writer.flush()
        for step in steps[5:]:
            await runtime.bus.publish_fast(PINGS, trip.ping(*step))
        await live(runtime).drain_pings()
        await live(runtime).writer.flush()
        [updated] = await recorded(runtime, "tracking.updated")
        assert updated["latitude"] == steps[4][0]
        assert (updated["owner_id"], updated["runner_id"]) == (str(trip.owner_id), str(trip.runner_id))


async def test_with_no_throttle_each_batch_sends_one_update_per_trip(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_UPDATED_EVENT_INTERVAL_SECONDS", "0")
    async with running_service(descriptor, infra) as (runtime, _client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        steps = path(6)
        for batch in (steps[:3], steps[3:]):
            for step in batch:
                await runtime.bus.publish_fast(PINGS, trip.ping(*step))
            await live(runtime).drain_pings()
            await live(runtime).writer.flush()
            await asyncio.sleep(0.01)
        updates = await recorded(runtime, "tracking.updated")
        assert [u["latitude"] for u in updates] == [steps[2][0], steps[5][0]]


async def test_pings_after_the_trip_ended_are_not_stored(infra):
    async with running_service(descriptor, infra) as (runtime, _client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        await deliver(runtime, trip.fact("booking.cancelled", "cancelled"))
        await runtime.bus.publish_fast(PINGS, trip.ping(*path(1)[0]))
        await live(runtime).drain_pings()
        await live(runtime).writer.flush()
        assert await stored(runtime) == 0
        assert live(runtime).outcomes["no_active_trip"] == 1


async def test_waypoints_older_than_the_retention_period_are_removed(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_RETENTION_DAYS", "7")
    async with running_service(descriptor, infra) as (runtime, _client):
        trip_id, booking, runner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        rows = [{"id": uuid.uuid4(), "trip_id": trip_id, "booking_id": booking, "runner_id": runner,
                 "latitude": 3.1, "longitude": 101.6, "speed_kmh": None, "heading_degrees": None,
                 "accuracy_m": None, "recorded_at": now() - timedelta(days=days)} for days in (9, 8, 6, 0)]
        async with runtime.database.session() as session:
            await Waypoints(session).insert_many(rows)
        await live(runtime).retention.run_once(now())
        assert await stored(runtime) == 2


async def test_a_restarted_instance_knows_its_live_trips_and_their_last_fix(infra):
    async with running_service(descriptor, infra) as (runtime, _client):
        trip, ended = Trip(infra), Trip(infra)
        await deliver(runtime, trip.accepted())
        await deliver(runtime, ended.accepted())
        await deliver(runtime, ended.fact("booking.cancelled", "cancelled"))
        steps = path(3)
        for step in steps:
            await runtime.bus.publish_fast(PINGS, trip.ping(*step))
        url = runtime.database.url
    async with running_service(descriptor, infra, database_url=url) as (runtime, _client):
        known = live(runtime).trips.peek(trip.booking_id)
        assert known.snapshot.is_active and known.last_fix.latitude == steps[-1][0]
        assert live(runtime).trips.peek(ended.booking_id) is None
        await runtime.bus.publish_fast(PINGS, trip.ping(*steps[1]))
        await live(runtime).drain_pings()
        assert live(runtime).outcomes["out_of_order"] == 1


async def test_a_change_missed_from_another_instance_is_corrected_by_the_refresh(infra):
    async with running_service(descriptor, infra) as (runtime, _client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        await runtime.bus.publish_fast(PINGS, trip.ping(*path(1)[0]))
        await live(runtime).drain_pings()
        directory = live(runtime).trips
        async with runtime.database.session() as session:
            from kilat.services.tracking.models import Trip as TripRow

            row = await session.scalar(select(TripRow).where(TripRow.booking_id == trip.booking_id))
            row.status = "cancelled"
        assert directory.peek(trip.booking_id).snapshot.is_active
        assert await directory.refresh() == 1
        assert not directory.peek(trip.booking_id).snapshot.is_active
        assert directory.peek(trip.booking_id).last_fix is not None


async def test_updates_per_batch_are_capped_and_the_longest_waiting_trips_go_first(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_UPDATED_EVENTS_PER_BATCH", "2")
    monkeypatch.setenv("KILAT_TRACKING_UPDATED_EVENT_INTERVAL_SECONDS", "0")
    async with running_service(descriptor, infra) as (runtime, _client):
        trips = [Trip(infra) for _ in range(3)]
        for trip in trips:
            await deliver(runtime, trip.accepted())
        steps = path(2)
        for step in steps:
            for trip in trips:
                await runtime.bus.publish_fast(PINGS, trip.ping(*step))
            await live(runtime).drain_pings()
            await live(runtime).writer.flush()
            await asyncio.sleep(0.01)
        updates = await recorded(runtime, "tracking.updated")
        assert len(updates) == 4
        assert {u["booking_id"] for u in updates} == {str(t.booking_id) for t in trips}
