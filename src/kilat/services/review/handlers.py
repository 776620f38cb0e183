"""Event consumers: the bookings read model that decides who may review what."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.services.review.service import ReviewService


def handlers(runtime) -> dict:
    async def on_booking(session: AsyncSession, event: Event) -> None:
        await ReviewService(session).record_booking(event.payload, event.time)

    return {"booking.*": on_booking}
