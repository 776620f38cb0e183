"""Rail tables: the timetable, seat holds and claims, bookings and their lines, tickets, stats.

Money columns are integer BDT poisha (100 poisha = 1 taka)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.idempotency import idempotency_table
from kilat.platform.models import Entity, IdMixin, UTCDateTime, VersionMixin, service_base, utcnow

Base = service_base("rail")
metadata = Base.metadata
idempotency_table(metadata)


class Station(Base, Entity):
    __tablename__ = "rail_stations"
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(120))


class Train(Base, Entity):
    __tablename__ = "rail_trains"
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Coach(Base, Entity):
    __tablename__ = "rail_coaches"
    __table_args__ = (UniqueConstraint("train_id", "code", name="uq_rail_coaches_train_code"),)
    train_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_trains.id", ondelete="CASCADE"),
                                                index=True)
    code: Mapped[str] = mapped_column(String(10))
    travel_class: Mapped[str] = mapped_column(String(30))
    base_fare: Mapped[int] = mapped_column(BigInteger)  # poisha per seat for the whole journey


class Seat(Base, IdMixin):
    __tablename__ = "rail_seats"
    __table_args__ = (UniqueConstraint("coach_id", "number", name="uq_rail_seats_coach_number"),)
    coach_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_coaches.id", ondelete="CASCADE"),
                                                index=True)
    number: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Route(Base, Entity):
    __tablename__ = "rail_routes"
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class RouteStop(Base, IdMixin):
    """A stop, its minutes after the origin's departure (arrival and departure)."""

    __tablename__ = "rail_route_stops"
    __table_args__ = (UniqueConstraint("route_id", "stop_order", name="uq_rail_stops_order"),
                      UniqueConstraint("route_id", "station_id", name="uq_rail_stops_station"))
    route_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_routes.id", ondelete="CASCADE"),
                                                index=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_stations.id"), index=True)
    stop_order: Mapped[int] = mapped_column(Integer)
    arrival_minutes: Mapped[int] = mapped_column(Integer)
    departure_minutes: Mapped[int] = mapped_column(Integer)


class Schedule(Base, Entity):
    """A train runs a route at a local departure time on some weekdays (0 = Monday)."""

    __tablename__ = "rail_schedules"
    train_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_trains.id", ondelete="CASCADE"),
                                                index=True)
    route_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_routes.id"), index=True)
    departure_time: Mapped[time] = mapped_column(Time)
    weekdays: Mapped[list] = mapped_column(JSON, default=lambda: list(range(7)))


class Journey(Base, Entity):
    """A train on a date along a route; ``departure_at`` is the origin's departure (UTC)."""

    __tablename__ = "rail_journeys"
    __table_args__ = (
        UniqueConstraint("train_id", "journey_date", name="uq_rail_journeys_train_date"),
        Index("ix_rail_journeys_date", "journey_date"))
    train_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_trains.id"))
    route_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_routes.id"))
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rail_schedules.id"))
    journey_date: Mapped[date] = mapped_column(Date)
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="scheduled")


class SeatHold(Base, Entity, VersionMixin):
    __tablename__ = "rail_holds"
    __table_args__ = (Index("ix_rail_holds_status_expires", "status", "expires_at"),)
    journey_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    seat_ids: Mapped[list] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20), default="active")
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class SeatClaim(Base):
    """The one row that makes a seat of a journey unavailable: held until ``expires_at`` by a
    hold, or booked (no expiry). Its primary key is what settles who gets a seat."""

    __tablename__ = "rail_seat_claims"
    journey_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    seat_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    hold_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    state: Mapped[str] = mapped_column(String(10), default="held")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class Booking(Base, Entity, VersionMixin):
    __tablename__ = "rail_bookings"
    __table_args__ = (Index("ix_rail_bookings_user_created", "user_id", "created_at"),)
    pnr: Mapped[str] = mapped_column(String(10), unique=True)
    booking_reference: Mapped[str] = mapped_column(String(20), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    hold_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    journey_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    train_name: Mapped[str] = mapped_column(String(120))
    train_number: Mapped[str] = mapped_column(String(20))
    journey_date: Mapped[date] = mapped_column(Date)
    from_code: Mapped[str] = mapped_column(String(10))
    to_code: Mapped[str] = mapped_column(String(10))
    departure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    total_fare: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    passengers: Mapped[int] = mapped_column(Integer)
    otp_hash: Mapped[str | None] = mapped_column(String(64))
    otp_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    otp_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    otp_attempts: Mapped[int] = mapped_column(Integer, default=0)
    charge_attempt: Mapped[int] = mapped_column(Integer, default=0)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    paid_charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_status: Mapped[str | None] = mapped_column(String(20))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class BookingLine(Base, IdMixin):
    """One passenger on one seat; its fare is the coach's. No seat is in two confirmed lines."""

    __tablename__ = "rail_booking_lines"
    __table_args__ = (
        Index("uq_rail_lines_confirmed_seat", "journey_id", "seat_id", unique=True,
              sqlite_where=text("status = 'confirmed'"),
              postgresql_where=text("status = 'confirmed'")),
    )
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_bookings.id"), index=True)
    journey_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    seat_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    coach_code: Mapped[str] = mapped_column(String(10))
    travel_class: Mapped[str] = mapped_column(String(30))
    seat_number: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)
    passenger_name: Mapped[str] = mapped_column(String(120))
    age: Mapped[int | None] = mapped_column(Integer)
    id_number: Mapped[str | None] = mapped_column(String(40))
    fare: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="pending")


class Ticket(Base, Entity):
    __tablename__ = "rail_tickets"
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rail_bookings.id"), index=True)
    line_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    ticket_number: Mapped[str] = mapped_column(String(20), unique=True)
    journey_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    journey_date: Mapped[date] = mapped_column(Date)
    passenger_name: Mapped[str] = mapped_column(String(120))
    seat_number: Mapped[str] = mapped_column(String(10))
    coach_code: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="valid")
    qr: Mapped[str] = mapped_column(Text)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    validated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class DailyStat(Base):
    __tablename__ = "rail_daily_stats"
    stat_date: Mapped[date] = mapped_column(Date, primary_key=True)
    total_bookings: Mapped[int] = mapped_column(Integer, default=0)
    successful_bookings: Mapped[int] = mapped_column(Integer, default=0)
    failed_bookings: Mapped[int] = mapped_column(Integer, default=0)
    total_revenue: Mapped[int] = mapped_column(BigInteger, default=0)
    total_passengers: Mapped[int] = mapped_column(Integer, default=0)
    unique_users: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class StatUser(Base):
    __tablename__ = "rail_stat_users"
    stat_date: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class StatFact(Base):
    """A fact already counted (``rail.booking_confirmed:<booking>``), whatever its event id."""

    __tablename__ = "rail_stat_facts"
    fact_key: Mapped[str] = mapped_column(String(100), primary_key=True)
