"""Events the tracking service publishes, trips and chat (subject: the booking)."""

from __future__ import annotations

import uuid

from kilat.contracts.base import Contract, Time


class TripFact(Contract):
    SUBJECT = "booking_id"

    track_id: uuid.UUID
    booking_id: uuid.UUID
    booking_number: str | None = None
    owner_id: uuid.UUID | None = None
    runner_id: uuid.UUID | None = None
    occurred_at: Time | None = None


class TrackingStarted(TripFact):
    TYPE = "tracking.started"

    started_at: Time | None = None


class TrackingCompleted(TripFact):
    TYPE = "tracking.completed"

    total_distance_km: float | None = None
    completed_at: Time | None = None


class TrackingCancelled(TripFact):
    TYPE = "tracking.cancelled"

    total_distance_km: float | None = None
    cancelled_at: Time | None = None
    reason: str | None = None


class TrackingUpdated(TripFact):
    TYPE = "tracking.updated"

    latitude: float
    longitude: float
    speed_kmh: float | None = None
    heading_degrees: float | None = None
    recorded_at: Time | None = None


class ShareCreated(Contract):
    TYPE = "tracking.share_created"
    SUBJECT = "booking_id"

    share_id: uuid.UUID
    booking_id: uuid.UUID
    owner_id: uuid.UUID | None = None
    runner_id: uuid.UUID | None = None
    created_by: uuid.UUID | None = None
    expires_at: Time | None = None
    occurred_at: Time | None = None


class ChatMessageSent(Contract):
    TYPE = "chat.message_sent"
    SUBJECT = "booking_id"

    message_id: uuid.UUID
    booking_id: uuid.UUID
    sender_id: uuid.UUID
    sender_role: str | None = None
    recipient_id: uuid.UUID | None = None
    message_type: str = "text"
    content: str | None = None
    created_at: Time | None = None
    occurred_at: Time | None = None
