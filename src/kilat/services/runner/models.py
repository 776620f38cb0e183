"""Runner tables: profiles, crates, pet shops, and read models fed by other services' events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kilat.platform.models import Entity, UTCDateTime, VersionMixin, service_base, utcnow


Base = service_base("runner")
metadata = Base.metadata


class Runner(Base, Entity, VersionMixin):
    __tablename__ = "runners"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    vehicle_type: Mapped[str] = mapped_column(String(20))
    vehicle_plate: Mapped[str | None] = mapped_column(String(20))
    vehicle_model: Mapped[str | None] = mapped_column(String(100))
    vehicle_year: Mapped[int | None] = mapped_column(Integer)
    air_conditioned: Mapped[bool] = mapped_column(Boolean, default=False)
    session_status: Mapped[str] = mapped_column(String(20), default="inactive", index=True)
    current_lat: Mapped[float | None] = mapped_column(Float)
    current_lng: Mapped[float | None] = mapped_column(Float)
    location_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active_booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rating: Mapped[float] = mapped_column(Numeric(3, 2, asdecimal=False), default=0.0)
    total_trips: Mapped[int] = mapped_column(Integer, default=0)
    completion_rate: Mapped[float] = mapped_column(Numeric(3, 2, asdecimal=False), default=1.0)

    crate_specs: Mapped[list[CrateSpec]] = relationship(
        back_populates="runner", lazy="raise", cascade="all, delete-orphan",
        order_by="CrateSpec.created_at",
    )


class CrateSpec(Base, Entity):
    __tablename__ = "crate_specs"

    runner_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("runners.id", ondelete="CASCADE"), index=True
    )
    size: Mapped[str] = mapped_column(String(10))
    pet_types: Mapped[list] = mapped_column(JSON, default=list)
    max_weight_kg: Mapped[float] = mapped_column(Float)
    width_cm: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)
    depth_cm: Mapped[float | None] = mapped_column(Float)
    ventilated: Mapped[bool] = mapped_column(Boolean, default=True)
    temperature_controlled: Mapped[bool] = mapped_column(Boolean, default=False)

    runner: Mapped[Runner] = relationship(back_populates="crate_specs", lazy="raise")


class PetShop(Base, Entity, VersionMixin):
    __tablename__ = "pet_shops"
    __table_args__ = (Index("ix_pet_shops_lat_lng", "latitude", "longitude"),)

    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(255))
    category: Mapped[str] = mapped_column(String(20), index=True)
    services: Mapped[list] = mapped_column(JSON, default=list)
    rating: Mapped[float] = mapped_column(Numeric(3, 2, asdecimal=False), default=0.0)
    image_url: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)


class RunnerAssignment(Base):
    """Read model of booking facts per (booking, runner): drives busy state, trips and completion."""

    __tablename__ = "runner_assignments"

    booking_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    runner_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(20))
    cancelled_by_runner: Mapped[bool] = mapped_column(Boolean, default=False)
    fact_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RunnerReview(Base):
    """Read model of ``review.created`` / ``review.hidden``: one row per review, so a repeated
    fact counts once and a review hidden by moderation stops counting."""

    __tablename__ = "runner_reviews"

    review_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    runner_user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    rating: Mapped[int] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class UserProfile(Base):
    """Read model of identity users: the defaults for a runner's name and phone."""

    __tablename__ = "user_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
