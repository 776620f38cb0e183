"""Events the tracking service publishes (ids are strings; owner and runner are user ids)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.tracking.models import ChatMessage, SharedTrip, Trip

STARTED = "tracking.started"
UPDATED = "tracking.updated"
COMPLETED = "tracking.completed"
CANCELLED = "tracking.cancelled"
SHARE_CREATED = "tracking.share_created"
CHAT_MESSAGE_SENT = "chat.message_sent"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _id(value) -> str | None:
    return None if value is None else str(value)


def trip_data(trip: Trip) -> dict[str, Any]:
    return {
        "track_id": str(trip.id),
        "booking_id": str(trip.booking_id),
        "booking_number": trip.booking_number,
        "owner_id": str(trip.owner_id),
        "runner_id": str(trip.runner_id),
        "occurred_at": utcnow().isoformat(),
    }


async def _record(session: AsyncSession, event_type: str, booking_id, data: dict) -> None:
    await record_event(session, event_type, data, subject=str(booking_id))


async def started(session: AsyncSession, trip: Trip) -> None:
    await _record(session, STARTED, trip.booking_id,
                  trip_data(trip) | {"started_at": _time(trip.started_at)})


async def ended(session: AsyncSession, trip: Trip) -> None:
    if trip.completed_at is not None:
        await _record(session, COMPLETED, trip.booking_id, trip_data(trip) | {
            "total_distance_km": trip.total_distance_km, "completed_at": _time(trip.completed_at)})
        return
    await _record(session, CANCELLED, trip.booking_id, trip_data(trip) | {
        "total_distance_km": trip.total_distance_km, "cancelled_at": _time(trip.cancelled_at),
        "reason": trip.end_reason})


async def updated(session: AsyncSession, row: dict) -> None:
    await _record(session, UPDATED, row["booking_id"], {
        "track_id": str(row["trip_id"]),
        "booking_id": str(row["booking_id"]),
        "owner_id": str(row["owner_id"]),
        "runner_id": str(row["runner_id"]),
        "latitude": row["latitude"],
        "longitude": row["longitude"],
        "speed_kmh": row["speed_kmh"],
        "heading_degrees": row["heading_degrees"],
        "recorded_at": _time(row["recorded_at"]),
        "occurred_at": utcnow().isoformat(),
    })


async def share_created(session: AsyncSession, share: SharedTrip, trip: Trip) -> None:
    await _record(session, SHARE_CREATED, share.booking_id, {
        "share_id": str(share.id),
        "booking_id": str(share.booking_id),
        "owner_id": str(trip.owner_id),
        "runner_id": str(trip.runner_id),
        "created_by": str(share.created_by),
        "expires_at": _time(share.expires_at),
        "occurred_at": utcnow().isoformat(),
    })


async def chat_message_sent(session: AsyncSession, message: ChatMessage) -> None:
    await _record(session, CHAT_MESSAGE_SENT, message.booking_id, {
        "message_id": str(message.id),
        "booking_id": str(message.booking_id),
        "sender_id": str(message.sender_id),
        "sender_role": message.sender_role,
        "recipient_id": _id(message.recipient_id),
        "message_type": message.message_type,
        "content": message.content,
        "created_at": _time(message.created_at),
        "occurred_at": utcnow().isoformat(),
    })
