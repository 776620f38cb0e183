"""Booking tables. On PostgreSQL a migration adds generated geography points for the addresses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.models import Entity, VersionMixin, service_base, utcnow
from kilat.services.booking.domain import BookingStatus

# JSONB on PostgreSQL, JSON text on SQLite
Document = JSON().with_variant(JSONB(), "postgresql")


Base = service_base("booking")
metadata = Base.metadata


class Booking(Base, Entity, VersionMixin):
    __tablename__ = "bookings"
    __table_args__ = (Index("ix_bookings_status_created_at", "status", "created_at"),)

    booking_number: Mapped[str] = mapped_column(String(20), unique=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    runner_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    pet_id: Mapped[uuid.UUID | None]
    status: Mapped[BookingStatus] = mapped_column(
        Enum(BookingStatus, native_enum=False, length=30,
             values_callable=lambda statuses: [s.value for s in statuses]))
    pet_spec: Mapped[dict] = mapped_column(Document)
    crate_requirement: Mapped[dict] = mapped_column(Document)
    pickup_address: Mapped[dict] = mapped_column(Document)
    dropoff_address: Mapped[dict] = mapped_column(Document)
    route_spec: Mapped[dict | None] = mapped_column(Document)
    pickup_lat: Mapped[float] = mapped_column(Float)
    pickup_lng: Mapped[float] = mapped_column(Float)
    dropoff_lat: Mapped[float] = mapped_column(Float)
    dropoff_lng: Mapped[float] = mapped_column(Float)
    estimated_price_cents: Mapped[int] = mapped_column(BigInteger)
    final_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    scheduled_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    picked_up_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[uuid.UUID | None]
    cancel_note: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(String(1000))
    rebooked_from_id: Mapped[uuid.UUID | None]


class StatusChange(Base, Entity):
    """One row per transition: who moved the booking, from what, to what, when."""

    __tablename__ = "booking_status_history"
    __table_args__ = (UniqueConstraint("booking_id", "sequence"),)

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    changed_by: Mapped[uuid.UUID | None]
    changed_by_role: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    sequence: Mapped[int] = mapped_column(Integer)


class DeclineRecord(Base, Entity):
    __tablename__ = "booking_decline_reasons"

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    runner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(30))


class Photo(Base, Entity):
    __tablename__ = "booking_photos"

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    uploaded_by: Mapped[uuid.UUID]
    uploaded_by_role: Mapped[str] = mapped_column(String(20))
    photo_type: Mapped[str] = mapped_column(String(20))
    photo_url: Mapped[str] = mapped_column(String(2048))
    caption: Mapped[str | None] = mapped_column(String(500))
    storage_key: Mapped[str | None] = mapped_column(String(512), unique=True)
    content_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def runner_id(self) -> uuid.UUID | None:
        return self.uploaded_by if self.uploaded_by_role == "runner" else None


class Pet(Base, Entity, VersionMixin):
    __tablename__ = "pets"

    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    pet_type: Mapped[str] = mapped_column(String(20))
    breed: Mapped[str | None] = mapped_column(String(100))
    weight_kg: Mapped[float | None] = mapped_column(Float)
    age_months: Mapped[int | None] = mapped_column(Integer)
    allergies: Mapped[str | None] = mapped_column(String(500))
    special_needs: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(String(1000))
    photo_url: Mapped[str | None] = mapped_column(String(2048))
    vaccination_status: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="active")
