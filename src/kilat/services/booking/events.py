"""Events the booking service publishes: the booking's state after each change (kilat.contracts.booking)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import booking as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.booking.models import Booking


def booking_data(booking: Booking) -> dict[str, Any]:
    return {
        "booking_id": booking.id,
        "booking_number": booking.booking_number,
        "owner_id": booking.owner_id,
        "runner_id": booking.runner_id,
        "status": str(booking.status),
        "estimated_price_cents": booking.estimated_price_cents,
        "currency": booking.currency,
        "occurred_at": utcnow(),
    }


async def publish(session: AsyncSession, contract: type[contracts.BookingFact], booking: Booking,
                  **extra: Any) -> None:
    """Record the event in the outbox, in the transaction that changed the booking."""
    await record_event(session, contract(**booking_data(booking), **extra))


async def requested(session: AsyncSession, booking: Booking) -> None:
    pet = booking.pet_spec
    await publish(session, contracts.BookingRequested, booking,
                  pet_type=pet["pet_type"], pet_name=pet["name"], weight_kg=pet["weight_kg"],
                  pickup_lat=booking.pickup_lat, pickup_lng=booking.pickup_lng,
                  dropoff_lat=booking.dropoff_lat, dropoff_lng=booking.dropoff_lng)


async def accepted(session: AsyncSession, booking: Booking) -> None:
    await publish(session, contracts.BookingAccepted, booking, accepted_at=booking.accepted_at)


async def declined(session: AsyncSession, booking: Booking, runner_id, reason: str) -> None:
    await publish(session, contracts.BookingDeclined, booking, reason=reason, declined_by=runner_id)


async def picked_up(session: AsyncSession, booking: Booking) -> None:
    await publish(session, contracts.PetPickedUp, booking, picked_up_at=booking.picked_up_at)


async def delivered(session: AsyncSession, booking: Booking) -> None:
    await publish(session, contracts.DeliveryConfirmed, booking, delivered_at=booking.delivered_at)


async def completed(session: AsyncSession, booking: Booking) -> None:
    await publish(session, contracts.BookingCompleted, booking,
                  final_price_cents=booking.final_price_cents)


async def cancelled(session: AsyncSession, booking: Booking, *, role: str,
                    previous_status: str) -> None:
    await publish(session, contracts.BookingCancelled, booking, cancelled_by=booking.cancelled_by,
                  cancelled_by_role=role, reason=booking.cancel_note,
                  previous_status=previous_status)
