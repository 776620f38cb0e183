"""The booking service on PostgreSQL + PostGIS with its events over NATS JetStream."""

import asyncio
import uuid
import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import SAWarning

from kilat.platform.events import Event
from kilat.services.booking.models import metadata
from tests.service.booking.fuzz import fuzz_booking_api
from tests.service.booking.support import (
    act,
    booking_at,
    create_booking,
    outbox_events,
)
from tests.support.harness import wait_for

BOOKING_EVENT_FIELDS = {"booking_id", "booking_number", "owner_id", "runner_id", "status",
                        "estimated_price_cents", "currency", "occurred_at"}


async def probe(bus, patterns: list[str]) -> list[Event]:
    """Another consumer on the bus, as the payment or notification service would be."""
    received: list[Event] = []

    async def collect(delivery) -> None:
        received.append(delivery.event)

    await bus.subscribe(f"probe_{uuid.uuid4().hex[:8]}", patterns, collect)
    return received


async def test_journey_on_postgres_reaches_other_services_over_nats(client, people, nats_bus):
    received = await probe(nats_bus, ["booking.*"])
    booking = await create_booking(client, people.owner)
    assert booking["estimated_price_cents"] == 4423
    for step in ("accept", "pickup", "deliver"):
        assert (await act(client, booking["id"], step, people.runner)).status_code == 200
    assert (await act(client, booking["id"], "confirm", people.owner)).status_code == 200

    async def all_arrived():
        return len([e for e in received if e.subject == booking["id"]]) == 5

    await wait_for(all_arrived, timeout=15)
    events = {e.type: e.data for e in received if e.subject == booking["id"]}
    assert set(events) == {"booking.requested", "booking.accepted", "booking.pet_picked_up",
                           "booking.delivery_confirmed", "booking.completed"}
    for data in events.values():
        assert set(data) >= BOOKING_EVENT_FIELDS
        assert data["owner_id"] == people.owner.id
    assert events["booking.requested"]["runner_id"] is None
    assert events["booking.requested"]["pickup_lat"] == 3.159
    assert events["booking.accepted"]["runner_id"] == people.runner.id
    assert events["booking.completed"]["final_price_cents"] == 4423
    history = (await client.get(f"/api/v1/bookings/{booking['id']}/history",
                                headers=people.owner.headers)).json()["data"]
    assert [h["to_status"] for h in history] == ["requested", "accepted", "in_progress",
                                                "delivered", "completed"]


async def test_two_runners_accepting_at_the_same_moment_on_postgres_one_gets_409(client, people,
                                                                                 runtime):
    for _ in range(5):
        booking = await create_booking(client, people.owner)
        results = await asyncio.gather(act(client, booking["id"], "accept", people.runner),
                                       act(client, booking["id"], "accept", people.runner2))
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        after = (await client.get(f"/api/v1/bookings/{booking['id']}",
                                  headers=people.owner.headers)).json()["data"]
        assert after["version"] == 2
        assert len(await outbox_events(runtime, "booking.accepted", booking["id"])) == 1


async def _release(bus, booking: dict, runner_id: str) -> None:
    await bus.publish(Event(source="payment", type="payment.escrow_released", data={
        "payment_id": str(uuid.uuid4()), "booking_id": booking["id"], "runner_id": runner_id,
        "runner_payout_cents": 3760, "platform_fee_cents": 663, "amount_cents": 4423,
        "currency": "MYR", "occurred_at": "2026-11-23T10:00:00Z"}))


async def test_escrow_released_over_nats_completes_once_in_either_order(client, people, runtime,
                                                                        nats_bus):
    first = await booking_at(client, people, "delivered")
    await _release(nats_bus, first, people.runner.id)
    await _release(nats_bus, first, people.runner.id)

    async def completed():
        response = await client.get(f"/api/v1/bookings/{first['id']}", headers=people.owner.headers)
        return response.json()["data"]["status"] == "completed"

    await wait_for(completed, timeout=15)
    assert (await act(client, first["id"], "confirm", people.owner)).status_code == 200

    second = await booking_at(client, people, "delivered")
    confirm, _ = await asyncio.gather(act(client, second["id"], "confirm", people.owner),
                                      _release(nats_bus, second, people.runner.id))
    assert confirm.status_code == 200  # both paths lock the row, so neither sees a stale one
    await _release(nats_bus, second, people.runner.id)
    await asyncio.sleep(1.0)
    for booking in (first, second):
        done = (await client.get(f"/api/v1/bookings/{booking['id']}",
                                 headers=people.owner.headers)).json()["data"]
        assert done["status"] == "completed" and done["final_price_cents"] == 4423
        assert len(await outbox_events(runtime, "booking.completed", booking["id"])) == 1


async def test_pickup_and_dropoff_are_postgis_points_with_gist_indexes(client, people, runtime):
    booking = await create_booking(client, people.owner)
    async with runtime.database.session(write=False) as session:
        points = (await session.execute(text(
            "SELECT ST_AsText(pickup_point::geometry), ST_AsText(dropoff_point::geometry), "
            "ST_Distance(pickup_point, dropoff_point) FROM bookings WHERE id = :id"),
            {"id": booking["id"]})).one()
        indexes = set((await session.scalars(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'bookings' "
            "AND indexdef LIKE '%USING gist%'"))).all())
    assert points[0] == "POINT(101.7123 3.159)" and points[1] == "POINT(101.642 3.1073)"
    assert abs(points[2] / 1000 - 9.69) < 0.05  # spheroid distance, close to the haversine
    assert indexes == {"ix_bookings_pickup_point", "ix_bookings_dropoff_point"}


async def test_nearby_open_jobs_on_postgis_nearest_first(client, people):
    far = await create_booking(client, people.owner, pickup=(1.3521, 103.8198))
    near = await create_booking(client, people.owner, pickup=(3.1073, 101.6420))
    nearest = await create_booking(client, people.owner, pickup=(3.1590, 101.7123))
    response = await client.get(
        "/api/v1/bookings?status=requested&latitude=3.16&longitude=101.71&radius_km=15",
        headers=people.runner.headers)
    assert response.status_code == 200, response.text
    assert [b["id"] for b in response.json()["data"]] == [nearest["id"], near["id"]]
    wide = await client.get("/api/v1/bookings?latitude=3.16&longitude=101.71&radius_km=500",
                            headers=people.runner.headers)
    assert far["id"] in {b["id"] for b in wide.json()["data"]}


async def test_admin_filters_and_stats_on_postgres(client, people):
    accepted = await booking_at(client, people, "accepted")
    other = await create_booking(client, people.other_owner)
    base = "/api/v1/admin/bookings"
    by_runner = await client.get(f"{base}?runner_id={people.runner.id}",
                                 headers=people.admin.headers)
    since = await client.get(f"{base}?created_from={other['created_at']}&status=requested",
                             headers=people.admin.headers)
    huge = await client.get(f"{base}?page={10**30}", headers=people.admin.headers)
    stats = await client.get("/api/v1/admin/stats/bookings", headers=people.admin.headers)
    assert [b["id"] for b in by_runner.json()["data"]] == [accepted["id"]]
    assert [b["id"] for b in since.json()["data"]] == [other["id"]]
    assert huge.status_code == 200 and huge.json()["data"] == []
    assert stats.json()["data"]["total_bookings"] == 2
    assert stats.json()["data"]["by_status"]["accepted"] == 1
    assert stats.json()["data"]["by_status"]["requested"] == 1


async def test_booking_api_on_postgres_never_fails_with_5xx(client, people):
    await fuzz_booking_api(client, people, examples=8)


POSTGIS_OBJECTS = ("pickup_point", "dropoff_point", "spatial_ref_sys")


async def test_migrated_postgres_schema_matches_the_models_besides_postgis_points(runtime):
    def modelled(obj, name, type_, reflected, compare_to) -> bool:
        return not (name or "").endswith(POSTGIS_OBJECTS)

    def differences(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"include_object": modelled})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Did not recognize type 'geography'", SAWarning)
            return compare_metadata(context, metadata)

    async with runtime.database.engine.connect() as conn:
        assert await conn.run_sync(differences) == []
