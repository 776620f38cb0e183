"""Response bodies built from rows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.services.rail import schemas
from kilat.services.rail.models import Booking, SeatHold, Ticket
from kilat.services.rail.repository import Bookings


async def booking(session: AsyncSession, row: Booking) -> schemas.Booking:
    lines = await Bookings(session).lines(row.id)
    view = schemas.Booking.model_validate(row)
    return view.model_copy(update={"lines": [schemas.BookingLine.model_validate(line)
                                             for line in lines]})


def hold(row: SeatHold) -> schemas.Hold:
    return schemas.Hold.model_validate(row)


def ticket(row: Ticket) -> schemas.Ticket:
    return schemas.Ticket.model_validate(row)
