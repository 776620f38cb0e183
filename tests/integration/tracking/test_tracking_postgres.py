"""Tracking on PostgreSQL + PostGIS: day-partitioned waypoints with retention, batched inserts
that skip duplicates, and the trip lifecycle."""

import uuid
from datetime import timedelta

from sqlalchemy import func, select, text

from kilat.services.tracking import descriptor
from kilat.services.tracking.models import waypoints
from kilat.services.tracking.repository import WaypointPartitions, Waypoints
from tests.service.tracking.support import Trip, deliver, live, now, path, recorded
from tests.support.harness import running_service

PINGS = "runner.location_update"


async def partition_days(runtime):
    async with runtime.database.session(write=False) as session:
        return await WaypointPartitions(session).days()


async def test_waypoints_are_partitioned_by_day_with_partitions_made_ahead(infra, postgres_url):
    async with running_service(descriptor, infra, database_url=postgres_url) as (runtime, _client):
        async with runtime.database.session(write=False) as session:
            strategy = await session.scalar(text(
                "SELECT partstrat::text FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relname = 'trip_waypoints'"))
            geography = await session.scalar(text(
                "SELECT udt_name FROM information_schema.columns "
                "WHERE table_name = 'trips' AND column_name = 'last_position'"))
        today = now().date()
        assert strategy == "r" and geography == "geography"
        assert {today + timedelta(days=n) for n in (-1, 0, 1, 2)} <= await partition_days(runtime)


async def test_partitions_older_than_the_retention_period_are_dropped(infra, postgres_url, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_RETENTION_DAYS", "30")
    async with running_service(descriptor, infra, database_url=postgres_url) as (runtime, _client):
        retention = live(runtime).retention
        old, kept = now() - timedelta(days=40), now() - timedelta(days=10)
        await retention.ensure_days({old.date(), kept.date()})
        rows = [{"id": uuid.uuid4(), "trip_id": uuid.uuid4(), "booking_id": uuid.uuid4(),
                 "runner_id": uuid.uuid4(), "latitude": 3.1, "longitude": 101.6, "speed_kmh": None,
                 "heading_degrees": None, "accuracy_m": None, "recorded_at": at} for at in (old, kept)]
        async with runtime.database.session() as session:
            await Waypoints(session).insert_many(rows)
        dropped = await retention.run_once(now())
        days = await partition_days(runtime)
        assert dropped == [old.date()] and old.date() not in days and kept.date() in days
        async with runtime.database.session(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(waypoints)) == 1


async def test_a_trip_on_postgres_batches_pings_and_completes_with_its_distance(infra, postgres_url):
    async with running_service(descriptor, infra, database_url=postgres_url) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        steps = path(11, step_m=100)
        for step in steps:
            await runtime.bus.publish_fast(PINGS, trip.ping(*step))
        await live(runtime).drain_pings()
        await live(runtime).writer.flush()
        # the same pings stored again (as a second instance would) are skipped, not duplicated
        async with runtime.database.session() as session:
            await Waypoints(session).insert_many([
                {"id": uuid.uuid4(), "trip_id": uuid.uuid4(), "booking_id": trip.booking_id,
                 "runner_id": trip.runner_id, "latitude": 0.5, "longitude": 0.5, "speed_kmh": None,
                 "heading_degrees": None, "accuracy_m": None, "recorded_at": at} for _, _, at in steps])
        assert live(runtime).writer.stats.transactions == 1
        await deliver(runtime, trip.fact("booking.delivery_confirmed", "delivered"))
        body = (await client.get(f"/api/v1/tracking/{trip.booking_id}",
                                 headers=trip.headers("owner"))).json()["data"]
        assert (body["status"], body["waypoint_count"], body["total_distance_km"]) == ("completed", 11, 1.0)
        route = await client.get(f"/api/v1/tracking/{trip.booking_id}/route", headers=trip.headers("owner"))
        assert len(route.json()["coordinates"]) == 11
        [completed] = await recorded(runtime, "tracking.completed")
        assert completed["total_distance_km"] == 1.0
        [updated] = await recorded(runtime, "tracking.updated")
        assert updated["latitude"] == steps[-1][0]


async def test_chat_unread_counts_on_postgres(infra, postgres_url):
    async with running_service(descriptor, infra, database_url=postgres_url) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        for who in ("owner", "owner", "runner"):
            response = await client.post(f"/api/v1/chat/{trip.booking_id}/messages",
                                         headers=trip.headers(who),
                                         json={"message_type": "text", "content": f"from {who}"})
            assert response.status_code == 201
        await client.post(f"/api/v1/chat/{trip.booking_id}/read", headers=trip.headers("owner"))
        runner = await client.get(f"/api/v1/chat/{trip.booking_id}/unread", headers=trip.headers("runner"))
        owner = await client.get(f"/api/v1/chat/{trip.booking_id}/unread", headers=trip.headers("owner"))
        assert (runner.json()["data"]["unread_count"], owner.json()["data"]["unread_count"]) == (2, 0)
