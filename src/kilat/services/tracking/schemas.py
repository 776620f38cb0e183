"""Tracking request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from kilat.platform.schemas import Schema
from kilat.services.tracking.domain import MessageType, clean_chat_content


class Position(Schema):
    latitude: float
    longitude: float
    speed_kmh: float | None = None
    heading_degrees: float | None = None
    recorded_at: datetime


class Waypoint(Position):
    id: uuid.UUID
    accuracy_m: float | None = None


class Tracking(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    booking_number: str | None = None
    owner_id: uuid.UUID
    runner_id: uuid.UUID
    status: str = Field(description="active | completed | cancelled")
    booking_status: str
    end_reason: str | None = None
    total_distance_km: float
    started_at: datetime
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    latest_position: Position | None = None
    waypoint_count: int
    waypoints: list[Waypoint] = Field(description="the last waypoints, oldest first")


class LineString(BaseModel):
    """A GeoJSON geometry; coordinates are [longitude, latitude] pairs, oldest first."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[Annotated[list[float], Field(min_length=2, max_length=2)]]


class ShareCreate(Schema):
    expires_in_hours: float | None = Field(
        None, gt=0, description="link lifetime; the service default (24 h) when omitted")


class SharedTrip(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    status: str = Field(description="valid | expired | revoked")
    created_by: uuid.UUID
    expires_at: datetime
    revoked_at: datetime | None = None
    created_at: datetime


class SharedTripCreated(SharedTrip):
    share_token: str = Field(description="32 hex characters; shown once, only its hash is stored")
    share_url: str = Field(description="public read-only view: GET without a login")
    ws_url: str = Field(description="live read-only socket for the same trip")


class SharedWaypoint(Schema):
    latitude: float
    longitude: float
    speed_kmh: float | None = None
    heading_degrees: float | None = None
    recorded_at: datetime


class SharedTracking(Schema):
    booking_id: uuid.UUID
    status: str
    booking_status: str
    latest_position: SharedWaypoint | None = None
    waypoints: list[SharedWaypoint]
    expires_at: datetime
    ws_url: str


class ChatMessageCreate(Schema):
    message_type: MessageType
    content: str = Field(max_length=4096)

    @model_validator(mode="after")
    def _clean(self) -> ChatMessageCreate:
        self.content = clean_chat_content(self.message_type, self.content)
        return self


class ChatMessage(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    sender_id: uuid.UUID
    sender_role: str
    recipient_id: uuid.UUID | None = None
    message_type: str
    content: str
    created_at: datetime


class ChatUnread(Schema):
    booking_id: uuid.UUID
    unread_count: int
    last_read_at: datetime | None = None


class LocationIn(Schema):
    """A runner's GPS fix sent over the tracking socket (``{"type": "location", ...}``)."""

    type: Literal["location"]
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    speed_kmh: float | None = Field(None, ge=0, le=1000)
    heading_degrees: float | None = Field(None, ge=0, le=360)
    accuracy_m: float | None = Field(None, ge=0)
    timestamp: datetime | None = None
