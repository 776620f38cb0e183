"""Event consumers: the bookings read model that decides who may review what."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.platform.runtime import ServiceRuntime
from kilat.services.review.context import ReviewContext
from kilat.services.review.service import ReviewService


def handlers(runtime: ServiceRuntime) -> dict:
    context: ReviewContext = runtime.context

    async def on_booking(session: AsyncSession, event: Event) -> None:
        await ReviewService(session, context.settings).record_booking(event.payload, event.time)

    return {"booking.*": on_booking}
