"""Events the tracking service publishes (kilat.contracts.tracking; subject: the booking)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.tracking import (
    ChatMessageSent,
    ShareCreated,
    TrackingCancelled,
    TrackingCompleted,
    TrackingStarted,
    TrackingUpdated,
)
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.tracking.models import ChatMessage, SharedTrip, Trip


def trip_data(trip: Trip) -> dict[str, Any]:
    return {"track_id": trip.id, "booking_id": trip.booking_id,
            "booking_number": trip.booking_number, "owner_id": trip.owner_id,
            "runner_id": trip.runner_id, "occurred_at": utcnow()}


async def started(session: AsyncSession, trip: Trip) -> None:
    await record_event(session, TrackingStarted(**trip_data(trip), started_at=trip.started_at))


async def ended(session: AsyncSession, trip: Trip) -> None:
    if trip.completed_at is not None:
        await record_event(session, TrackingCompleted(
            **trip_data(trip), total_distance_km=trip.total_distance_km,
            completed_at=trip.completed_at))
        return
    await record_event(session, TrackingCancelled(
        **trip_data(trip), total_distance_km=trip.total_distance_km,
        cancelled_at=trip.cancelled_at, reason=trip.end_reason))


async def updated(session: AsyncSession, row: dict) -> None:
    await record_event(session, TrackingUpdated(
        track_id=row["trip_id"], booking_id=row["booking_id"], owner_id=row["owner_id"],
        runner_id=row["runner_id"], latitude=row["latitude"], longitude=row["longitude"],
        speed_kmh=row["speed_kmh"], heading_degrees=row["heading_degrees"],
        recorded_at=row["recorded_at"], occurred_at=utcnow()))


async def share_created(session: AsyncSession, share: SharedTrip, trip: Trip) -> None:
    await record_event(session, ShareCreated(
        share_id=share.id, booking_id=share.booking_id, owner_id=trip.owner_id,
        runner_id=trip.runner_id, created_by=share.created_by, expires_at=share.expires_at,
        occurred_at=utcnow()))


async def chat_message_sent(session: AsyncSession, message: ChatMessage) -> None:
    await record_event(session, ChatMessageSent(
        message_id=message.id, booking_id=message.booking_id, sender_id=message.sender_id,
        sender_role=message.sender_role, recipient_id=message.recipient_id,
        message_type=message.message_type, content=message.content,
        created_at=message.created_at, occurred_at=utcnow()))
