"""An owner who opens the live page a moment after creating the booking is let in: with the
tracking consumer paused, ``booking.requested`` never arrives and the owner is read from the
booking service with the owner's own token."""

import json
import uuid

import pytest
from sqlalchemy import select
from websockets.exceptions import InvalidStatus

from kilat.services.tracking import descriptor
from kilat.services.tracking.models import BookingOwner
from tests.service.tracking.support import Trip, live, serve, socket_for, wait_for
from tests.support.harness import auth_headers, running_service


def requested(booking_service: dict, trip: Trip) -> None:
    booking_service[str(trip.booking_id)] = {
        "id": str(trip.booking_id), "owner_id": str(trip.owner_id), "runner_id": None,
        "status": "requested", "created_at": "2026-12-07T10:00:00Z"}


async def refused(base: str, booking_id, token: str) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as caught:
        async with socket_for(base, booking_id, token=token, frames=None):
            pass
    return caught.value.response.status_code, json.loads(caught.value.response.body)


async def test_the_owner_is_admitted_before_booking_requested_arrives(infra, booking_service):
    async with running_service(descriptor, infra, consume=False) as (runtime, _), \
            serve(runtime) as base:
        trip = Trip(infra)
        requested(booking_service, trip)
        async with socket_for(base, trip.booking_id, token=trip.token("owner"), frames=None):
            await wait_for(lambda: live(runtime).hub.viewers(str(trip.booking_id)) == 1)
        async with runtime.database.session(write=False) as session:
            owner = await session.scalar(select(BookingOwner.owner_id).where(
                BookingOwner.booking_id == trip.booking_id))
        assert owner == trip.owner_id


async def test_strangers_unknown_bookings_and_an_unreachable_booking_service(infra,
                                                                           booking_service):
    async with running_service(descriptor, infra, consume=False) as (runtime, _), \
            serve(runtime) as base:
        trip = Trip(infra)
        requested(booking_service, trip)
        stranger = auth_headers(infra, "owner")["Authorization"].removeprefix("Bearer ")
        assert (await refused(base, trip.booking_id, stranger))[0] == 403
        status, body = await refused(base, uuid.uuid4(), trip.token("owner"))
        assert (status, body["error"]) == (404, "tracking not found")
        del infra.service_apps["booking"]
        assert (await refused(base, uuid.uuid4(), trip.token("owner")))[0] == 503
