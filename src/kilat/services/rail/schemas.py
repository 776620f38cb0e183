"""Rail request and response bodies. Fares are BDT poisha (100 poisha = 1 taka)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kilat.platform.schemas import Schema

FARE_MAX = 10**9


class _Body(Schema):
    model_config = ConfigDict(extra="forbid", from_attributes=True, populate_by_name=True)


# timetable ------------------------------------------------------------------------------------

class StationCreate(_Body):
    code: str = Field(min_length=2, max_length=10, pattern=r"^[A-Z0-9]+$",
                      description="e.g. DHK, CTG")
    name: str = Field(min_length=1, max_length=120)
    city: str = Field(min_length=1, max_length=120)


class StationUpdate(_Body):
    name: str | None = Field(None, min_length=1, max_length=120)
    city: str | None = Field(None, min_length=1, max_length=120)


class Station(Schema):
    id: uuid.UUID
    code: str
    name: str
    city: str


class CoachCreate(_Body):
    code: str = Field(min_length=1, max_length=10, pattern=r"^[A-Z0-9-]+$",
                      description="e.g. KA, GA")
    travel_class: str = Field(min_length=1, max_length=30, pattern=r"^[a-z_]+$",
                              description="e.g. ac_chair, snigdha, shovan_chair")
    base_fare: int = Field(ge=0, le=FARE_MAX, description="poisha per seat for the journey")
    seats: int = Field(ge=1, le=200, description="seats numbered 1..n")


class TrainCreate(_Body):
    number: str = Field(min_length=1, max_length=20, pattern=r"^[A-Z0-9-]+$")
    name: str = Field(min_length=1, max_length=120)
    coaches: list[CoachCreate] = Field(min_length=1, max_length=40)

    @field_validator("coaches")
    @classmethod
    def _unique_codes(cls, coaches: list[CoachCreate]) -> list[CoachCreate]:
        if len({c.code for c in coaches}) != len(coaches):
            raise ValueError("coach codes must differ")
        return coaches


class TrainUpdate(_Body):
    name: str = Field(min_length=1, max_length=120)


class CoachFareUpdate(_Body):
    base_fare: int = Field(ge=0, le=FARE_MAX)


class Coach(Schema):
    id: uuid.UUID
    code: str
    travel_class: str
    base_fare: int
    seats: int = 0


class Train(Schema):
    id: uuid.UUID
    number: str
    name: str
    coaches: list[Coach] = Field(default_factory=list)


class StopCreate(_Body):
    station_code: str = Field(min_length=2, max_length=10, pattern=r"^[A-Z0-9]+$")
    arrival_minutes: int = Field(ge=0, le=10_000, description="after the origin's departure")
    departure_minutes: int = Field(ge=0, le=10_000)


class RouteCreate(_Body):
    code: str = Field(min_length=1, max_length=30, pattern=r"^[A-Z0-9-]+$")
    name: str = Field(min_length=1, max_length=120)
    stops: list[StopCreate] = Field(min_length=2, max_length=50, description="in travel order")


class Stop(Schema):
    station_code: str
    stop_order: int
    arrival_minutes: int
    departure_minutes: int


class Route(Schema):
    id: uuid.UUID
    code: str
    name: str
    stops: list[Stop] = Field(default_factory=list)


class ScheduleCreate(_Body):
    train_id: uuid.UUID
    route_id: uuid.UUID
    departure_time: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="local HH:MM")
    weekdays: list[int] = Field(default_factory=lambda: list(range(7)), min_length=1, max_length=7,
                                description="0 = Monday")

    @field_validator("weekdays")
    @classmethod
    def _days(cls, days: list[int]) -> list[int]:
        if any(not 0 <= d <= 6 for d in days) or len(set(days)) != len(days):
            raise ValueError("weekdays are distinct numbers 0 (Monday) to 6")
        return sorted(days)


class Schedule(Schema):
    id: uuid.UUID
    train_id: uuid.UUID
    route_id: uuid.UUID
    departure_time: str
    weekdays: list[int]


class JourneyGenerate(_Body):
    start: date
    days: int = Field(ge=1, le=60)


class JourneyCreate(_Body):
    train_id: uuid.UUID
    route_id: uuid.UUID
    departure_at: datetime = Field(description="the origin's departure, with a zone")


class Journey(Schema):
    id: uuid.UUID
    train_id: uuid.UUID
    route_id: uuid.UUID
    journey_date: date
    departure_at: datetime
    status: str


# search ---------------------------------------------------------------------------------------

class ClassAvailability(BaseModel):
    travel_class: str
    fare: int = Field(description="poisha per seat (the cheapest coach of the class)")
    available_seats: int
    total_seats: int


class JourneyOption(BaseModel):
    journey_id: uuid.UUID
    train_number: str
    train_name: str
    journey_date: date
    from_code: str
    to_code: str
    departure_at: datetime
    arrival_at: datetime
    currency: str
    classes: list[ClassAvailability]


class SeatView(BaseModel):
    id: uuid.UUID
    number: str
    state: str = Field(description="available | held | booked")


class CoachMap(BaseModel):
    code: str
    travel_class: str
    fare: int
    seats: list[SeatView]


class SeatMap(BaseModel):
    journey_id: uuid.UUID
    train_number: str
    train_name: str
    journey_date: date
    departure_at: datetime
    coaches: list[CoachMap]


# holds and bookings ---------------------------------------------------------------------------

class HoldCreate(_Body):
    journey_id: uuid.UUID
    seat_ids: list[uuid.UUID] = Field(min_length=1, max_length=4)


class Hold(Schema):
    id: uuid.UUID
    journey_id: uuid.UUID
    seat_ids: list[uuid.UUID]
    expires_at: datetime
    status: str
    booking_id: uuid.UUID | None = None


class PassengerIn(_Body):
    name: str = Field(min_length=1, max_length=120)
    seat_id: uuid.UUID
    age: int | None = Field(None, ge=0, le=130)
    id_number: str | None = Field(None, min_length=1, max_length=40, description="NID or passport")


class BookingCreate(_Body):
    hold_id: uuid.UUID
    passengers: list[PassengerIn] = Field(min_length=1, max_length=4)


class OtpVerify(_Body):
    code: str = Field(pattern=r"^\d{6}$")


class CancelRequest(_Body):
    reason: str = Field("", max_length=500)


class BookingLine(Schema):
    id: uuid.UUID
    seat_id: uuid.UUID
    coach: str = Field(validation_alias="coach_code")
    travel_class: str
    seat: str = Field(validation_alias="seat_number")
    passenger_name: str
    age: int | None = None
    fare: int
    status: str


class Booking(Schema):
    id: uuid.UUID
    pnr: str
    booking_reference: str
    status: str
    journey_id: uuid.UUID
    train_number: str
    train_name: str
    journey_date: date
    from_code: str
    to_code: str
    departure_at: datetime
    arrival_at: datetime
    total_fare: int
    currency: str
    otp_expires_at: datetime | None = None
    failure_reason: str | None = None
    refund_amount: int = 0
    refund_fee: int = 0
    refund_status: str | None = None
    created_at: datetime
    lines: list[BookingLine] = Field(default_factory=list)


class Ticket(Schema):
    id: uuid.UUID
    ticket_number: str
    passenger_name: str
    seat: str = Field(validation_alias="seat_number")
    coach: str = Field(validation_alias="coach_code")
    journey_date: date
    status: str
    qr: str
    validated_at: datetime | None = None


class GateScan(_Body):
    qr: str = Field(min_length=1, max_length=4096)


class GateResult(BaseModel):
    ticket: Ticket
    passenger_name: str
    seat: str
    coach: str
    pnr: str


class VerificationKey(BaseModel):
    algorithm: str = "Ed25519"
    format: str = "KR1.<base64url(JSON payload)>.<base64url(signature over the payload bytes)>"
    public_key_pem: str
    jwk: dict[str, str]


class DailyStat(Schema):
    stat_date: date
    total_bookings: int
    successful_bookings: int
    failed_bookings: int
    total_revenue: int
    total_passengers: int
    unique_users: int
