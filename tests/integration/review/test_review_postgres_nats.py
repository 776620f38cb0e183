"""The review service on PostgreSQL, and review events crossing NATS JetStream to notification."""

import asyncio
import uuid

from kilat.platform.events import Event
from kilat.platform.runtime import Infrastructure
from tests.service.notification.support import notification_service, announce_user, wait_for, wait_inbox
from tests.service.review.support import completed_trip, review, review_service
from tests.support.harness import postgres_database_url, private_nats_bus, require_postgres


async def test_simultaneous_reviews_of_one_booking_store_one_on_postgres(infra):
    require_postgres()
    async with review_service(infra, database_url=postgres_database_url("kilat_review")) as (
            runtime, client):
        trip = await completed_trip(infra, runtime)
        results = await asyncio.gather(*(review(client, trip, trip.owner, 4) for _ in range(4)))
        assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
        assert {r.json()["error"] for r in results if r.status_code == 409} == {
            "booking already reviewed"}
        page = (await client.get(f"/api/v1/reviews/runner/{trip.runner.user_id}",
                                 headers=trip.owner.headers)).json()
        assert (page["average"], page["count"]) == (4.0, 1)


async def test_completed_booking_and_review_travel_over_nats_to_review_and_notification(infra):
    require_postgres()
    async with private_nats_bus("rv") as bus:
        distributed = Infrastructure(settings=infra.settings, bus=bus, verifier=infra.verifier,
                                     issuer=infra.issuer, extras=infra.extras)
        async with notification_service(
                distributed, database_url=postgres_database_url("kilat_notification")) as (_, notes), \
                review_service(distributed, database_url=postgres_database_url("kilat_review")) as (
                    _, reviews):
            owner = await announce_user(distributed, "owner")
            runner = await announce_user(distributed, "runner", name="Ali")
            booking_id = uuid.uuid4()
            await bus.publish(Event(source="booking", type="booking.completed", data={
                "booking_id": str(booking_id), "booking_number": "BK-NATS01",
                "owner_id": str(owner.user_id), "runner_id": str(runner.user_id),
                "status": "completed", "final_price_cents": 4423, "currency": "MYR"}))

            async def reviewed():
                response = await reviews.post("/api/v1/reviews", headers=owner.headers, json={
                    "booking_id": str(booking_id), "rating": 5, "comment": "Brilliant"})
                return response if response.status_code == 201 else None

            await wait_for(reviewed, timeout=15)
            note = await wait_inbox(notes, runner, "review.created", timeout=15)
            assert note["body"] == "You received a 5-star review for booking BK-NATS01"
            done = await wait_inbox(notes, owner, "booking.completed", timeout=15)
            assert done["title"] == "Booking Completed"
