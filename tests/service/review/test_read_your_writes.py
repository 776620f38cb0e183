"""A review posted the instant its booking completes: the completion is read from the booking
service when the review service's read model has not heard of it yet."""

import uuid

from sqlalchemy import select

from kilat.services.review.models import ReviewBooking
from tests.service.review.support import (
    Trip,
    booking_event,
    review,
    review_service,
    show_booking,
)
from tests.support.people import person


def new_trip(infra) -> Trip:
    return Trip(uuid.uuid4(), person(infra, "owner"), person(infra, "runner"))


async def stored(runtime, trip: Trip) -> ReviewBooking | None:
    async with runtime.database.session(write=False) as session:
        return await session.scalar(select(ReviewBooking).where(
            ReviewBooking.booking_id == trip.booking_id))


async def test_a_completed_booking_is_reviewable_before_its_event_arrives(infra):
    async with review_service(infra, consume=False) as (runtime, client):
        trip = new_trip(infra)
        show_booking(infra, trip, "completed")
        response = await review(client, trip, trip.owner, 5)
        assert response.status_code == 201
        assert response.json()["data"]["reviewee_id"] == str(trip.runner.user_id)
        booking = await stored(runtime, trip)
        assert booking.status == "completed" and booking.completed_at is not None


async def test_a_lagging_read_model_is_refreshed_from_the_booking_service(infra):
    async with review_service(infra) as (runtime, client):
        trip = new_trip(infra)
        await booking_event(runtime, "booking.delivered", trip, "delivered")
        show_booking(infra, trip, "completed")
        assert (await review(client, trip, trip.runner, 4)).status_code == 201


async def test_the_completion_event_arriving_after_the_direct_read_changes_nothing(infra):
    async with review_service(infra) as (runtime, client):
        trip = new_trip(infra)
        await booking_event(runtime, "booking.in_progress", trip, "in_progress")
        show_booking(infra, trip, "completed", completed_at="2026-12-01T11:00:00Z")
        assert (await review(client, trip, trip.owner, 5)).status_code == 201
        await booking_event(runtime, "booking.delivered", trip, "delivered")
        await booking_event(runtime, "booking.completed", trip, "completed")
        booking = await stored(runtime, trip)
        assert booking.status == "completed"
        assert booking.completed_at.isoformat().startswith("2026-12-01T11:00")


async def test_a_stranger_is_refused_by_the_booking_service(infra):
    async with review_service(infra, consume=False) as (_, client):
        trip = new_trip(infra)
        show_booking(infra, trip, "completed")
        response = await review(client, trip, person(infra, "owner"), 5)
        assert response.status_code == 403


async def test_an_unreachable_booking_service_is_503_not_a_refusal(infra):
    async with review_service(infra, consume=False) as (_, client):
        trip = new_trip(infra)
        del infra.service_apps["booking"]
        response = await review(client, trip, trip.owner, 5)
        assert response.status_code == 503
