"""The database settles seats on its own: claims' primary key for holds, a unique index for
confirmed lines, whatever the service or the lock store in front of it does."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from kilat.services.rail.models import Booking, BookingLine
from tests.service.rail.support import rail_service


class GrantEverything:
    """A lock store that lets every request through to the database."""

    async def acquire(self, journey_id, seat_ids, token, deadline):
        return []

    async def extend(self, journey_id, seat_ids, token, deadline):
        return True

    async def release(self, journey_id, seat_ids, token):
        return None


async def test_without_a_lock_store_the_database_alone_gives_a_seat_once(infra):
    async with rail_service(infra) as rail:
        rail.runtime._context = dataclasses.replace(rail.runtime.context, locks=GrantEverything())
        journey = await rail.journey()
        seats = [s["id"] for s in await rail.seats(journey["journey_id"])][:3]
        wants = [[seats[0]], [seats[0], seats[1]], [seats[1], seats[2]], [seats[2]]] * 15
        answers = await asyncio.gather(*(rail.hold(rail.passenger(), journey["journey_id"], w)
                                         for w in wants))
        won = [a.json()["data"]["seat_ids"] for a in answers if a.status_code == 201]
        assert set(Counter(a.status_code for a in answers)) == {201, 409}
        held = [seat for seat_ids in won for seat in seat_ids]
        assert len(held) == len(set(held))


def _line(booking_id: uuid.UUID, journey_id: uuid.UUID, seat_id: uuid.UUID, status: str) -> dict:
    return {"id": uuid.uuid4(), "booking_id": booking_id, "journey_id": journey_id,
            "seat_id": seat_id, "coach_code": "KA", "travel_class": "snigdha", "seat_number": "1",
            "position": 1, "passenger_name": "X", "fare": 100, "status": status}


async def test_no_seat_is_in_two_confirmed_booking_lines_even_written_directly(infra):
    async with rail_service(infra) as rail:
        ana = rail.passenger()
        booking = await rail.confirmed(ana, seats=1)
        journey_id = uuid.UUID(booking["journey_id"])
        seat_id = uuid.UUID(booking["lines"][0]["seat_id"])
        async with rail.runtime.database.session() as session:
            stored = await session.get(Booking, uuid.UUID(booking["id"]))
            twin = {c.name: getattr(stored, c.key) for c in Booking.__table__.columns} | {
                "id": uuid.uuid4(), "pnr": "TWIN000001", "booking_reference": "BKTWIN",
                "hold_id": uuid.uuid4()}
            await session.execute(insert(Booking.__table__).values(**twin))
            await session.execute(insert(BookingLine.__table__).values(
                **_line(twin["id"], journey_id, seat_id, "cancelled")))
        with pytest.raises(IntegrityError):
            async with rail.runtime.database.session() as session:
                await session.execute(insert(BookingLine.__table__).values(
                    **_line(twin["id"], journey_id, seat_id, "confirmed")))
