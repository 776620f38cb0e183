"""Rides request and response bodies. Money is integer IDR with its currency stated."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kilat.platform.schemas import Schema
from kilat.services.rides.domain import VehicleType


class Point(Schema):
    model_config = ConfigDict(extra="forbid")
    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False)


class DriverCreate(Schema):
    model_config = ConfigDict(extra="forbid")
    vehicle_type: VehicleType
    vehicle_plate: str = Field(min_length=2, max_length=12, pattern=r"^[A-Za-z0-9 -]+$",
                               description="e.g. B 1234 XYZ")


class Beacon(Point):
    available: bool


class Driver(Schema):
    user_id: uuid.UUID
    vehicle_type: str
    vehicle_plate: str
    available: bool
    latitude: float | None = None
    longitude: float | None = None
    beacon_at: datetime | None = None
    created_at: datetime


class RequestCreate(Schema):
    model_config = ConfigDict(extra="forbid")
    pickup: Point
    destination: Point


class MatchedDriver(BaseModel):
    user_id: uuid.UUID
    vehicle_type: str
    vehicle_plate: str


class RideRequest(BaseModel):
    id: uuid.UUID
    passenger_id: uuid.UUID
    status: str
    pickup: Point
    destination: Point
    driver: MatchedDriver | None = None
    match_id: uuid.UUID | None = None
    ride_id: uuid.UUID | None = None
    search_expires_at: datetime
    matched_at: datetime | None = None
    ended_at: datetime | None = None
    cancelled_by: str | None = None
    end_reason: str | None = None
    created_at: datetime


class Offer(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    status: str
    pickup: Point
    destination: Point
    distance_km: float = Field(description="from the driver's beacon to the pickup")
    expires_at: datetime
    created_at: datetime


class Cancel(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=200)


class StartRide(Point):
    pass


class Location(Point):
    recorded_at: datetime | None = Field(
        default=None, description="when the phone took the fix (batched fixes), RFC 3339; "
                                  "without a zone it is read as UTC; default now")

    @field_validator("recorded_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError as exc:
            raise ValueError("recorded_at is out of range") from exc


class LocationResult(BaseModel):
    ride_id: uuid.UUID
    party: str
    verdict: str = Field(description="billed, jitter, implausible_speed, out_of_order, "
                                     "duplicate or recorded (a passenger's fix)")
    segment_m: float
    distance_m: int
    fare_so_far: int
    currency: str


class Arrive(Schema):
    model_config = ConfigDict(extra="forbid")
    adjustment_factor: Decimal = Field(gt=0, le=1, max_digits=5, decimal_places=4,
                                       description="share of the metered fare charged, (0, 1]")


class Payment(Schema):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject"]


class Ride(BaseModel):
    id: uuid.UUID
    request_id: uuid.UUID
    match_id: uuid.UUID
    passenger_id: uuid.UUID
    driver_id: uuid.UUID
    status: str
    pickup: Point
    destination: Point
    started_at: datetime | None = None
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None
    distance_m: int
    currency: str
    fare: int | None = None
    adjustment_factor: Decimal | None = None
    adjusted_fare: int | None = None
    admin_fee: int | None = None
    driver_payout: int | None = None
    payment_status: str
    payment_attempt: int
    charge_id: uuid.UUID | None = None
    payment_error: str | None = None
    paid_at: datetime | None = None
    created_at: datetime
