"""Trips follow the booking: accepted starts one, delivery or completion ends it, cancel and
decline cancel it; the events carry owner and runner ids."""

import uuid

from kilat.services.tracking import descriptor
from tests.service.tracking.support import Trip, deliver, live, path, recorded, wait_for
from tests.support.harness import running_service


async def tracking_of(client, trip: Trip, who: str = "owner"):
    return await client.get(f"/api/v1/tracking/{trip.booking_id}", headers=trip.headers(who))


async def test_accepted_booking_starts_a_trip_and_publishes_tracking_started(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        body = (await tracking_of(client, trip)).json()["data"]
        assert body["status"] == "active" and body["booking_status"] == "accepted"
        assert body["runner_id"] == str(trip.runner_id) and body["owner_id"] == str(trip.owner_id)
        assert body["waypoints"] == [] and body["total_distance_km"] == 0.0
        [started] = await recorded(runtime, "tracking.started")
        assert started["track_id"] == body["id"]
        assert (started["owner_id"], started["runner_id"]) == (str(trip.owner_id), str(trip.runner_id))


async def test_accepted_arriving_through_the_bus_starts_the_trip(infra):
    async with running_service(descriptor, infra) as (_runtime, client):
        trip = Trip(infra)
        await infra.bus.publish(trip.accepted())

        async def started():
            return (await tracking_of(client, trip)).status_code == 200

        await wait_for(started)


async def test_the_same_acceptance_under_a_new_event_id_makes_no_second_trip(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        fact = trip.accepted()
        await deliver(runtime, fact)
        await deliver(runtime, fact.model_copy(update={"id": uuid.uuid4()}))
        assert len(await recorded(runtime, "tracking.started")) == 1
        assert (await tracking_of(client, trip)).status_code == 200


async def test_delivery_completes_the_trip_with_the_route_distance(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        for lat, lng, at in path(5, step_m=100):
            await runtime.bus.publish_fast("runner.location_update", trip.ping(lat, lng, at))
        # no flush: pings still waiting for the batch writer count too
        await deliver(runtime, trip.fact("booking.delivery_confirmed", "delivered",
                                         delivered_at=trip.ping(0, 0)["timestamp"]))
        body = (await tracking_of(client, trip)).json()["data"]
        assert body["status"] == "completed" and body["booking_status"] == "delivered"
        assert body["total_distance_km"] == 0.4 and body["completed_at"] is not None
        assert body["waypoint_count"] == 5
        [completed] = await recorded(runtime, "tracking.completed")
        assert completed["total_distance_km"] == 0.4
        assert (completed["owner_id"], completed["runner_id"]) == (str(trip.owner_id), str(trip.runner_id))


async def test_completion_after_delivery_only_moves_the_booking_status(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        await deliver(runtime, trip.fact("booking.delivery_confirmed", "delivered"))
        await deliver(runtime, trip.fact("booking.completed", "completed", final_price_cents=4423))
        body = (await tracking_of(client, trip)).json()["data"]
        assert (body["status"], body["booking_status"], body["end_reason"]) == (
            "completed", "completed", "delivered")
        assert len(await recorded(runtime, "tracking.completed")) == 1


async def test_cancelled_booking_cancels_the_trip(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        await deliver(runtime, trip.fact("booking.cancelled", "cancelled", cancelled_by=str(trip.owner_id),
                                         cancelled_by_role="owner", reason="changed plans",
                                         previous_status="accepted"))
        body = (await tracking_of(client, trip)).json()["data"]
        assert body["status"] == "cancelled" and body["cancelled_at"] is not None
        [cancelled] = await recorded(runtime, "tracking.cancelled")
        assert cancelled["reason"] == "cancelled" and cancelled["owner_id"] == str(trip.owner_id)


async def test_decline_ends_the_runners_trip_and_a_new_accept_starts_another(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        first = (await tracking_of(client, trip)).json()["data"]["id"]
        await deliver(runtime, trip.fact("booking.declined", "requested", runner_id=None,
                                         declined_by=str(trip.runner_id), reason="vehicle issue"))
        assert (await tracking_of(client, trip, "runner")).status_code == 403
        assert (await tracking_of(client, trip)).json()["data"]["status"] == "cancelled"

        old_runner, trip.runner_id = trip.runner_id, uuid.uuid4()
        await deliver(runtime, trip.accepted())
        body = (await tracking_of(client, trip, "runner")).json()["data"]
        assert body["id"] != first and body["status"] == "active"
        assert body["runner_id"] == str(trip.runner_id) != str(old_runner)


async def test_pickup_moves_the_booking_status_of_the_active_trip(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        await deliver(runtime, trip.fact("booking.pet_picked_up", "in_progress"))
        body = (await tracking_of(client, trip)).json()["data"]
        assert (body["status"], body["booking_status"]) == ("active", "in_progress")
        assert live(runtime).trips.peek(trip.booking_id).snapshot.booking_status == "in_progress"


async def test_facts_for_a_booking_without_a_trip_change_nothing(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = Trip(infra)
        await deliver(runtime, trip.fact("booking.requested", "requested", runner_id=None))
        await deliver(runtime, trip.fact("booking.cancelled", "cancelled"))
        response = await tracking_of(client, trip)
        assert response.status_code == 404
        assert response.json() == {"success": False, "error": "tracking not found",
                                    "detail": f"no trip for booking '{trip.booking_id}' yet"}
