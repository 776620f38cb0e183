"""Events the booking service consumes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.payment import EscrowReleased
from kilat.platform.events import Event
from kilat.services.booking import service


async def on_escrow_released(session: AsyncSession, event: Event) -> None:
    """Payment released the escrow: complete the delivered booking (once, whatever the order)."""
    released: EscrowReleased = event.payload
    await service.complete_on_escrow_release(session, released.booking_id)


def handlers(_runtime) -> dict:
    return {EscrowReleased.TYPE: on_escrow_released}
