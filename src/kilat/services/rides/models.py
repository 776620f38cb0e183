"""Rides tables: drivers, requests and their offers, matches (one active per driver), rides, the
driver's metered fixes, and the frames each user's live socket replays."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Boolean,
    Float,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.models import Entity, UTCDateTime, service_base, utcnow

Base = service_base("rides")
metadata = Base.metadata

ACTIVE = text("active")
OPEN = text("open")


class Driver(Base):
    """A driver's vehicle and beacon; the live index holds where available drivers are now."""

    __tablename__ = "ride_drivers"
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    vehicle_type: Mapped[str] = mapped_column(String(20))
    vehicle_plate: Mapped[str] = mapped_column(String(20))
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    beacon_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RideRequest(Base, Entity):
    """A passenger's request; ``deadline_at`` is its place in the deadline queue (the next time
    the worker must look at it: refill offers, expire the search, lapse an unconfirmed match)."""

    __tablename__ = "ride_requests"
    __table_args__ = (
        Index("uq_ride_requests_open_passenger", "passenger_id", unique=True,
              postgresql_where=OPEN, sqlite_where=OPEN),
        Index("ix_ride_requests_deadline", "deadline_at"),
    )
    passenger_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    pickup_lat: Mapped[float] = mapped_column(Float)
    pickup_lng: Mapped[float] = mapped_column(Float)
    destination_lat: Mapped[float] = mapped_column(Float)
    destination_lng: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    open: Mapped[bool] = mapped_column(Boolean, default=True)
    driver_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    match_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    ride_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    search_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    end_reason: Mapped[str | None] = mapped_column(String(200))


class Offer(Base, Entity):
    __tablename__ = "ride_offers"
    __table_args__ = (
        UniqueConstraint("request_id", "driver_id", name="uq_ride_offers_request_driver"),
        Index("ix_ride_offers_status_expires", "status", "expires_at"),
        Index("ix_ride_offers_driver_status", "driver_id", "status"),
    )
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    driver_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    passenger_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    distance_km: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Match(Base, Entity):
    """A driver committed to a request. ``active`` until the ride ends or the match is undone;
    the partial unique indexes make a second active match of one driver, or of one request,
    impossible: the atomic claim."""

    __tablename__ = "ride_matches"
    __table_args__ = (
        Index("uq_ride_matches_active_driver", "driver_id", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
        Index("uq_ride_matches_active_request", "request_id", unique=True,
              postgresql_where=ACTIVE, sqlite_where=ACTIVE),
    )
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    offer_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    driver_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    passenger_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Ride(Base, Entity):
    __tablename__ = "rides"
    __table_args__ = (
        Index("ix_rides_passenger_created", "passenger_id", "created_at"),
        Index("ix_rides_driver_created", "driver_id", "created_at"),
        CheckConstraint("admin_fee IS NULL OR admin_fee + driver_payout = adjusted_fare",
                        name="fee_split"),
    )
    match_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    passenger_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    driver_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(20))
    pickup_lat: Mapped[float] = mapped_column(Float)
    pickup_lng: Mapped[float] = mapped_column(Float)
    destination_lat: Mapped[float] = mapped_column(Float)
    destination_lng: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    # the fare meter: metres of the driver's filtered track, the fix they are measured from
    distance_m: Mapped[float] = mapped_column(Float, default=0.0)
    anchor_lat: Mapped[float | None] = mapped_column(Float)
    anchor_lng: Mapped[float | None] = mapped_column(Float)
    anchor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3), default="IDR")
    fare: Mapped[int | None] = mapped_column(BigInteger)
    adjustment_factor: Mapped[float | None] = mapped_column(Numeric(5, 4, asdecimal=True))
    adjusted_fare: Mapped[int | None] = mapped_column(BigInteger)
    admin_fee: Mapped[int | None] = mapped_column(BigInteger)
    driver_payout: Mapped[int | None] = mapped_column(BigInteger)
    payment_status: Mapped[str] = mapped_column(String(20), default="none")
    payment_attempt: Mapped[int] = mapped_column(Integer, default=0)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    payment_error: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Fix(Base):
    """A position a party's phone reported during the ride. The driver's billed ones are the
    billing ledger: the unique (ride, party, recorded_at) key makes a resent fix count once."""

    __tablename__ = "ride_fixes"
    __table_args__ = (
        UniqueConstraint("ride_id", "party", "recorded_at", name="uq_ride_fixes_dedup"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    ride_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    party: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verdict: Mapped[str] = mapped_column(String(20))
    segment_m: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Frame(Base):
    """A frame for one user's live socket, written with the change it tells of: a socket that
    reconnects with ``?since=<seq>`` gets what it missed."""

    __tablename__ = "ride_frames"
    __table_args__ = (Index("ix_ride_frames_user_seq", "user_id", "seq"),
                      Index("ix_ride_frames_created", "created_at"))
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
