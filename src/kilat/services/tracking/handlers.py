"""Booking facts drive the trips: accepted starts one, delivered/completed/cancelled/declined end it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.services.tracking import service
from kilat.platform.db import after_commit
from kilat.platform.runtime import ServiceRuntime
from kilat.services.tracking.context import TrackingContext


def handlers(runtime: ServiceRuntime) -> dict:
    context: TrackingContext = runtime.context
    live = context.live

    async def on_booking_fact(session: AsyncSession, event: Event) -> None:
        facts = service.BookingFacts.of(event.payload, fallback_time=event.time)
        changes = await service.apply_booking_fact(session, event.type, facts,
                                                   live.writer.pending_for)
        for change in changes:
            after_commit(session, lambda change=change: live.trip_changed(change))

    return {"booking.*": on_booking_fact}
