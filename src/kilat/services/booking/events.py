"""Events the booking service publishes (all ids are strings; owner and runner are user ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.booking.models import Booking

REQUESTED = "booking.requested"
ACCEPTED = "booking.accepted"
DECLINED = "booking.declined"
PET_PICKED_UP = "booking.pet_picked_up"
DELIVERY_CONFIRMED = "booking.delivery_confirmed"
COMPLETED = "booking.completed"
CANCELLED = "booking.cancelled"

ESCROW_RELEASED = "payment.escrow_released"


def _id(value) -> str | None:
    return None if value is None else str(value)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def booking_data(booking: Booking) -> dict[str, Any]:
    return {
        "booking_id": str(booking.id),
        "booking_number": booking.booking_number,
        "owner_id": str(booking.owner_id),
        "runner_id": _id(booking.runner_id),
        "status": str(booking.status),
        "estimated_price_cents": booking.estimated_price_cents,
        "currency": booking.currency,
        "occurred_at": utcnow().isoformat(),
    }


def requested_data(booking: Booking) -> dict[str, Any]:
    return {
        "pet_type": booking.pet_spec["pet_type"],
        "pet_name": booking.pet_spec["name"],
        "weight_kg": booking.pet_spec["weight_kg"],
        "pickup_lat": booking.pickup_lat,
        "pickup_lng": booking.pickup_lng,
        "dropoff_lat": booking.dropoff_lat,
        "dropoff_lng": booking.dropoff_lng,
    }


async def publish(session: AsyncSession, event_type: str, booking: Booking, **extra: Any) -> None:
    """Record the event in the outbox, in the transaction that changed the booking."""
    await record_event(session, event_type, booking_data(booking) | extra, subject=str(booking.id))


async def requested(session: AsyncSession, booking: Booking) -> None:
    await publish(session, REQUESTED, booking, **requested_data(booking))


async def accepted(session: AsyncSession, booking: Booking) -> None:
    await publish(session, ACCEPTED, booking, accepted_at=_time(booking.accepted_at))


async def declined(session: AsyncSession, booking: Booking, runner_id, reason: str) -> None:
    await publish(session, DECLINED, booking, reason=reason, declined_by=_id(runner_id))


async def picked_up(session: AsyncSession, booking: Booking) -> None:
    await publish(session, PET_PICKED_UP, booking, picked_up_at=_time(booking.picked_up_at))


async def delivered(session: AsyncSession, booking: Booking) -> None:
    await publish(session, DELIVERY_CONFIRMED, booking, delivered_at=_time(booking.delivered_at))


async def completed(session: AsyncSession, booking: Booking) -> None:
    await publish(session, COMPLETED, booking, final_price_cents=booking.final_price_cents)


async def cancelled(session: AsyncSession, booking: Booking, *, role: str,
                    previous_status: str) -> None:
    await publish(session, CANCELLED, booking, cancelled_by=_id(booking.cancelled_by),
                  cancelled_by_role=role, reason=booking.cancel_note,
                  previous_status=previous_status)
