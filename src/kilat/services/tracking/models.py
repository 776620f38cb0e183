"""Tracking tables: trips (a read model of accepted bookings), waypoints, chat, share links."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Column,
    Float,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.models import (
    Entity,
    UTCDateTime,
    VersionMixin,
    service_base,
    utcnow,
)
from kilat.services.tracking.domain import TripParties, share_state


Base = service_base("tracking")
metadata = Base.metadata

ACTIVE_ONLY = text("status = 'active'")


class Trip(Base, Entity, VersionMixin):
    """One runner's journey for one booking, from acceptance to delivery, cancel or decline."""

    __tablename__ = "trips"

    booking_id: Mapped[uuid.UUID] = mapped_column(index=True)
    booking_number: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    runner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    booking_status: Mapped[str] = mapped_column(String(32))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    accepted_at: Mapped[datetime]
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    total_distance_km: Mapped[float | None] = mapped_column(Float)
    last_latitude: Mapped[float | None] = mapped_column(Float)
    last_longitude: Mapped[float | None] = mapped_column(Float)
    last_speed_kmh: Mapped[float | None] = mapped_column(Float)
    last_heading_degrees: Mapped[float | None] = mapped_column(Float)
    last_recorded_at: Mapped[datetime | None]
    last_update_event_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("booking_id", "runner_id", "accepted_at", name="uq_trips_acceptance"),
        Index("uq_trips_active_booking", "booking_id", unique=True,
              sqlite_where=ACTIVE_ONLY, postgresql_where=ACTIVE_ONLY),
    )

    @property
    def parties(self) -> TripParties:
        return TripParties(self.owner_id, self.runner_id, self.status, self.end_reason)


class BookingOwner(Base):
    """Who owns a booking, from ``booking.requested``: lets the owner open the live socket
    before a runner accepts (there is no trip yet)."""

    __tablename__ = "booking_owners"

    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    owner_id: Mapped[uuid.UUID]
    requested_at: Mapped[datetime]


# Partitioned by day on PostgreSQL (see the migration), so it is a Core table keyed on the ping.
waypoints = Table(
    "trip_waypoints",
    metadata,
    Column("booking_id", Uuid, primary_key=True),
    Column("recorded_at", UTCDateTime(), primary_key=True),
    Column("runner_id", Uuid, primary_key=True),
    Column("id", Uuid, nullable=False),
    Column("trip_id", Uuid, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("speed_kmh", Float),
    Column("heading_degrees", Float),
    Column("accuracy_m", Float),
    Index("ix_trip_waypoints_trip", "trip_id", "recorded_at"),
)


class ChatMessage(Base, Entity):
    __tablename__ = "chat_messages"

    booking_id: Mapped[uuid.UUID]
    trip_id: Mapped[uuid.UUID]
    sender_id: Mapped[uuid.UUID]
    sender_role: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[uuid.UUID | None]
    message_type: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_chat_messages_booking", "booking_id", "created_at"),)


class ChatRead(Base):
    """How far one participant has read a booking's chat."""

    __tablename__ = "chat_reads"

    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    last_read_at: Mapped[datetime]


class SharedTrip(Base, Entity):
    __tablename__ = "shared_trips"

    booking_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None]

    @property
    def status(self) -> str:
        return share_state(self.expires_at, self.revoked_at, utcnow()).value
