"""Booking facts drive the trips: accepted starts one, delivered/completed/cancelled/declined end it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.services.tracking import service
from kilat.platform.db import after_commit
from kilat.services.tracking.live import live_of


def handlers(runtime) -> dict:
    async def on_booking_fact(session: AsyncSession, event: Event) -> None:
        live = live_of(runtime)
        facts = service.BookingFacts.of(event.payload, fallback_time=event.time)
        changes = await service.apply_booking_fact(session, event.type, facts,
                                                   live.writer.pending_for)
        for change in changes:
            after_commit(session, lambda change=change: live.trip_changed(change))

    return {"booking.*": on_booking_fact}
