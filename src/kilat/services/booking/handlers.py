"""Events the booking service consumes."""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.services.booking import events, service

log = structlog.get_logger(__name__)


async def on_escrow_released(session: AsyncSession, event: Event) -> None:
    """Payment released the escrow: complete the delivered booking (once, whatever the order)."""
    try:
        booking_id = uuid.UUID(str(event.data["booking_id"]))
    except (KeyError, ValueError):
        log.warning("escrow_released without a valid booking_id", event_id=str(event.id))
        return
    await service.complete_on_escrow_release(session, booking_id)


def handlers(_runtime) -> dict:
    return {events.ESCROW_RELEASED: on_escrow_released}
