"""Tracking rules without I/O: trip lifecycle, access, distance, shares and chat."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from kilat.contracts.booking import (
    BookingAccepted,
    BookingCancelled,
    BookingCompleted,
    BookingDeclined,
    DeliveryConfirmed,
)
from kilat.platform.geo import (  # noqa: F401  (re-exported: trips keep their last Fix)
    Fix,
    FixVerdict,
    GpsPolicy,
    judge_fix,
    path_length_km,
)

# --- trips ---------------------------------------------------------------------------------------


class TripStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EndReason(StrEnum):
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    REASSIGNED = "reassigned"


class Effect(StrEnum):
    START = "start"
    END = "end"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Ending:
    status: TripStatus
    reason: EndReason


ENDINGS: dict[str, Ending] = {
    DeliveryConfirmed.TYPE: Ending(TripStatus.COMPLETED, EndReason.DELIVERED),
    BookingCompleted.TYPE: Ending(TripStatus.COMPLETED, EndReason.COMPLETED),
    BookingCancelled.TYPE: Ending(TripStatus.CANCELLED, EndReason.CANCELLED),
    BookingDeclined.TYPE: Ending(TripStatus.CANCELLED, EndReason.DECLINED),
}


def booking_effect(event_type: str) -> Effect:
    """What a booking fact does to its trip: accepted starts one, terminal facts end it."""
    if event_type == BookingAccepted.TYPE:
        return Effect.START
    if event_type in ENDINGS:
        return Effect.END
    return Effect.NOTE


BOOKING_PROGRESS = ("requested", "accepted", "in_progress", "delivered", "completed")


def booking_status_advances(current: str, new: str) -> bool:
    """Facts may arrive late: a trip's booking status only moves forward (or to cancelled)."""
    if new == current or current == "cancelled":
        return False
    if new == "cancelled" or current not in BOOKING_PROGRESS or new not in BOOKING_PROGRESS:
        return True
    return BOOKING_PROGRESS.index(new) > BOOKING_PROGRESS.index(current)


def round_km(value: float) -> float:
    return round(value, 3)


def route_distance_km(points: Sequence[tuple[float, float]]) -> float:
    """Sum of the segment lengths between consecutive accepted waypoints, to 3 decimals."""
    return round_km(path_length_km(points))


def thin_route(points: Sequence, max_points: int) -> list:
    """At most ``max_points`` evenly spaced points, always keeping the first and the last."""
    if len(points) <= max_points:
        return list(points)
    step = (len(points) - 1) / (max_points - 1)
    return [points[round(i * step)] for i in range(max_points)]


# --- access --------------------------------------------------------------------------------------


class Party(StrEnum):
    OWNER = "owner"
    RUNNER = "runner"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class TripParties:
    owner_id: uuid.UUID
    runner_id: uuid.UUID
    status: str
    end_reason: str | None


def party_of(trip: TripParties, user_id: uuid.UUID, role: str) -> Party | None:
    """The caller's standing on a trip; a runner who declined the booking has none left."""
    if user_id == trip.owner_id:
        return Party.OWNER
    if user_id == trip.runner_id and trip.end_reason != EndReason.DECLINED:
        return Party.RUNNER
    if role == "admin":
        return Party.ADMIN
    return None


def may_send_location(trip: TripParties, user_id: uuid.UUID | None, party: str | None) -> bool:
    """Only the assigned runner streams positions, and only while the trip is active."""
    return (party == Party.RUNNER and user_id == trip.runner_id
            and trip.status == TripStatus.ACTIVE)


# --- GPS fixes (the policy and the judge are the kernel's, applied by the runner service) ----


class FrameBudget:
    """A token bucket: ``burst`` frames at once, refilled at ``rate`` frames per second."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def latest_per_trip(rows: Iterable[dict]) -> dict[uuid.UUID, dict]:
    latest: dict[uuid.UUID, dict] = {}
    for row in rows:
        current = latest.get(row["trip_id"])
        if current is None or row["recorded_at"] > current["recorded_at"]:
            latest[row["trip_id"]] = row
    return latest


# --- shares --------------------------------------------------------------------------------------


class ShareState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


def share_state(expires_at: datetime, revoked_at: datetime | None, now: datetime) -> ShareState:
    if revoked_at is not None:
        return ShareState.REVOKED
    if now >= expires_at:
        return ShareState.EXPIRED
    return ShareState.VALID


def share_token_hash(token: str) -> str:
    """Only the hash is stored, so a leaked table does not leak live links."""
    return hashlib.sha256(token.encode()).hexdigest()


def share_lifetime(requested_hours: float | None, default_hours: float, max_hours: float) -> timedelta:
    hours = default_hours if requested_hours is None else requested_hours
    if not 0 < hours <= max_hours:
        raise ValueError(f"expires_in_hours must be between 0 and {max_hours:g}")
    return timedelta(hours=hours)


def may_revoke_share(created_by: uuid.UUID, party: Party, user_id: uuid.UUID) -> bool:
    return party in (Party.OWNER, Party.ADMIN) or created_by == user_id


# --- chat ----------------------------------------------------------------------------------------


class MessageType(StrEnum):
    TEXT = "text"
    IMAGE = "image"
    QUICK_REPLY = "quick_reply"


MAX_CONTENT = {MessageType.TEXT: 2000, MessageType.IMAGE: 2048, MessageType.QUICK_REPLY: 200}


def clean_chat_content(message_type: MessageType, content: str) -> str:
    """Trimmed content; raises ValueError for empty, oversized or non-http(s) image content."""
    text = content.strip()
    if not text:
        raise ValueError("content must not be empty")
    if len(text) > MAX_CONTENT[message_type]:
        raise ValueError(f"content must be at most {MAX_CONTENT[message_type]} characters")
    if message_type is MessageType.IMAGE:
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("image content must be an http(s) URL")
    return text


def recipient_of(party: Party, trip: TripParties) -> uuid.UUID | None:
    """The other party of a chat message; an admin writes to both, so to no single recipient."""
    if party is Party.OWNER:
        return trip.runner_id
    if party is Party.RUNNER:
        return trip.owner_id
    return None
