"""WebSocket frames (one JSON object per frame) and the trip facts instances pass each other."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from kilat.services.tracking.domain import Fix, TripParties, TripStatus


def rfc3339(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class TripSnapshot:
    """What a live room needs to know about a trip; sent to the other instances on changes."""

    trip_id: uuid.UUID
    booking_id: uuid.UUID
    owner_id: uuid.UUID
    runner_id: uuid.UUID
    status: str
    booking_status: str
    end_reason: str | None
    started_at: datetime
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    total_distance_km: float | None = None
    version: int = 1
    last_fix: Fix | None = None

    @property
    def parties(self) -> TripParties:
        return TripParties(self.owner_id, self.runner_id, self.status, self.end_reason)

    @property
    def is_active(self) -> bool:
        return self.status == TripStatus.ACTIVE

    @classmethod
    def of(cls, trip, last_fix: Fix | None = None) -> TripSnapshot:
        """From a ``Trip`` row (or anything with the same attributes)."""
        values = {f.name: getattr(trip, f.name) for f in fields(cls)
                  if f.name not in ("trip_id", "last_fix")}
        return cls(trip_id=trip.id, last_fix=last_fix, **values)

    def to_wire(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_fix"] = None
        for key, value in data.items():
            if isinstance(value, uuid.UUID):
                data[key] = str(value)
            elif isinstance(value, datetime):
                data[key] = value.isoformat()
        return data

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> TripSnapshot:
        return cls(
            trip_id=uuid.UUID(data["trip_id"]),
            booking_id=uuid.UUID(data["booking_id"]),
            owner_id=uuid.UUID(data["owner_id"]),
            runner_id=uuid.UUID(data["runner_id"]),
            status=data["status"],
            booking_status=data["booking_status"],
            end_reason=data.get("end_reason"),
            started_at=parse_time(data["started_at"]),
            completed_at=parse_time(data.get("completed_at")),
            cancelled_at=parse_time(data.get("cancelled_at")),
            total_distance_km=data.get("total_distance_km"),
            version=int(data.get("version", 1)),
        )


def location_frame(booking_id: uuid.UUID, runner_id: uuid.UUID, fix: Fix) -> dict[str, Any]:
    """The flat location frame every original client parses: ``speed_kmh`` and
    ``heading_degrees`` are always numbers (clients format them), 0.0 when the runner's phone did
    not report them; ``speed_known`` / ``heading_known`` say which."""
    return {
        "type": "location_update",
        "booking_id": str(booking_id),
        "runner_id": str(runner_id),
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "speed_kmh": 0.0 if fix.speed_kmh is None else fix.speed_kmh,
        "heading_degrees": 0.0 if fix.heading_degrees is None else fix.heading_degrees,
        "speed_known": fix.speed_kmh is not None,
        "heading_known": fix.heading_degrees is not None,
        "accuracy_m": fix.accuracy_m,
        "timestamp": rfc3339(fix.recorded_at),
    }


def status_frame(trip: TripSnapshot) -> dict[str, Any]:
    return {
        "type": "status",
        "booking_id": str(trip.booking_id),
        "track_id": str(trip.trip_id),
        "runner_id": str(trip.runner_id),
        "status": trip.status,
        "booking_status": trip.booking_status,
        "end_reason": trip.end_reason,
        "total_distance_km": trip.total_distance_km,
        "started_at": rfc3339(trip.started_at),
        "completed_at": rfc3339(trip.completed_at),
        "cancelled_at": rfc3339(trip.cancelled_at),
    }


def chat_frame(message) -> dict[str, Any]:
    """Flat, as every client already parses it."""
    return {
        "type": "chat_message",
        "booking_id": str(message.booking_id),
        "message_id": str(message.id),
        "sender_id": str(message.sender_id),
        "sender_role": message.sender_role,
        "message_type": message.message_type,
        "content": message.content,
        "created_at": rfc3339(message.created_at),
    }


def error_frame(error: str) -> dict[str, Any]:
    return {"type": "error", "error": error}


PING = {"type": "ping"}
PONG = {"type": "pong"}
