"""Review test kit: the service, completed bookings announced as the booking service would."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass

from kilat.platform.events import Event
from kilat.platform.events.bus import Delivery
from kilat.platform.runtime import Infrastructure
from kilat.services.review import descriptor
from kilat.services.review.settings import ReviewSettings
from tests.support.bookings import BOOKINGS, stand_in_booking_service
from tests.support.harness import running_service
from tests.support.people import Person, person


@asynccontextmanager
async def review_service(infra: Infrastructure, *, database_url: str | None = None,
                         consume: bool = True, **settings):
    """The review service beside a stand-in booking service that shows every booking the test
    announced (``booking_event`` or ``show_booking``)."""
    infra.service_settings["review"] = ReviewSettings(**settings)
    stand_in_booking_service(infra)
    async with running_service(descriptor, infra, database_url=database_url,
                               consume=consume) as (runtime, client):
        yield runtime, client


def show_booking(infra: Infrastructure, trip: Trip, status: str, **extra) -> None:
    """The booking as GET /api/v1/bookings/{id} shows it from now on."""
    infra.extras[BOOKINGS][str(trip.booking_id)] = {
        "id": str(trip.booking_id), "booking_number": "BK-RVW001",
        "owner_id": str(trip.owner.user_id), "runner_id": str(trip.runner.user_id),
        "status": status, "completed_at": "2026-12-01T10:00:00Z" if status == "completed" else None,
        "updated_at": "2026-12-01T10:00:00Z"} | extra


@dataclass
class Trip:
    booking_id: uuid.UUID
    owner: Person
    runner: Person


class Recorder:
    """Subscribes to the bus like another service would, keeping the events it sees."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.events.append(delivery.event)

    def of(self, type: str) -> list[Event]:
        return [e for e in self.events if e.type == type]


async def listen(infra: Infrastructure, *patterns: str) -> Recorder:
    recorder = Recorder()
    await infra.bus.subscribe(f"probe-{uuid.uuid4().hex[:6]}", list(patterns), recorder)
    return recorder


async def handle(runtime, type: str, data: dict) -> None:
    """Deliver a booking event to the review service's consumer and wait for it to apply."""
    event = Event(source="booking", type=type, data=data)
    await runtime.consumer.handle(event, runtime.consumer.handler_for(type))


async def booking_event(runtime, type: str, trip: Trip, status: str, **extra) -> None:
    show_booking(runtime.infra, trip, status)
    await handle(runtime, type, {
        "booking_id": str(trip.booking_id), "booking_number": "BK-RVW001",
        "owner_id": str(trip.owner.user_id), "runner_id": str(trip.runner.user_id),
        "status": status, "estimated_price_cents": 4423, "currency": "MYR",
        "occurred_at": "2026-12-01T10:00:00Z"} | extra)


async def completed_trip(infra: Infrastructure, runtime, *, runner: Person | None = None) -> Trip:
    trip = Trip(uuid.uuid4(), person(infra, "owner"), runner or person(infra, "runner"))
    await booking_event(runtime, "booking.accepted", trip, "accepted")
    await booking_event(runtime, "booking.completed", trip, "completed", final_price_cents=4423)
    return trip


async def review(client, trip: Trip, by: Person, rating: int, **extra):
    return await client.post("/api/v1/reviews", headers=by.headers,
                             json={"booking_id": str(trip.booking_id), "rating": rating} | extra)
