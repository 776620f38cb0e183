"""Booking request and response bodies (spec §2.2; empty optional fields are omitted)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from kilat.platform.schemas import OptionalWebUrl, Schema, WebUrl
from kilat.services.booking.domain import (
    PET_TYPES,
    BookingStatus,
    CrateSize,
    DeclineReason,
    PhotoType,
    normalize_pet_type,
)


def _blank_to_none(value: str | None) -> str | None:
    return value or None


def as_utc(value: datetime | None) -> datetime | None:
    """Naive datetimes are taken as UTC; every value is returned in UTC."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("datetime out of range") from exc


def text(max_length: int) -> type[str]:
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=max_length)]


def optional_text(max_length: int):
    inner = Annotated[str, StringConstraints(strip_whitespace=True, max_length=max_length)]
    return Annotated[inner | None, AfterValidator(_blank_to_none)]


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
WeightKg = Annotated[float, Field(gt=0, le=500, allow_inf_nan=False)]
AgeMonths = Annotated[int, Field(ge=0, le=1200)]
PetType = Annotated[str, StringConstraints(max_length=20), AfterValidator(normalize_pet_type),
                    Field(json_schema_extra={"enum": list(PET_TYPES)},
                          description="hamster and fish are priced as other")]


# --- requests ------------------------------------------------------------------------------------


class Vaccination(Schema):
    vaccine_name: text(100)
    date_given: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None
    vet_name: optional_text(100) = None
    verified: bool = False


class PetSpecIn(Schema):
    pet_type: PetType
    name: text(100)
    weight_kg: WeightKg
    breed: optional_text(100) = None
    age_months: AgeMonths | None = None
    special_needs: optional_text(500) = None
    photo_url: OptionalWebUrl = None
    vaccinations: list[Vaccination] = Field(default_factory=list, max_length=20)


class Address(Schema):
    line1: text(200)
    line2: optional_text(200) = None
    city: text(100)
    state: text(100)
    postal_code: optional_text(20) = None
    country: text(56)
    latitude: Latitude
    longitude: Longitude


class BookingCreate(Schema):
    pet_spec: PetSpecIn | None = Field(
        None, description="the pet to carry; may be left out when pet_id names a saved profile")
    pet_id: uuid.UUID | None = Field(
        None, description="a saved pet profile of the caller, copied into pet_spec")
    pickup_address: Address
    dropoff_address: Address
    scheduled_at: UtcDatetime | None = None
    notes: optional_text(1000) = None

    @model_validator(mode="after")
    def _needs_a_pet(self) -> BookingCreate:
        if self.pet_spec is None and self.pet_id is None:
            raise ValueError("pet_spec or pet_id is required")
        return self


class DeclineRequest(Schema):
    reason: DeclineReason


class CancelRequest(Schema):
    reason: optional_text(500) = None


class PhotoCreate(Schema):
    photo_type: PhotoType
    photo_url: WebUrl
    caption: optional_text(500) = None


class PetCreate(Schema):
    name: text(100)
    pet_type: PetType
    breed: optional_text(100) = None
    weight_kg: WeightKg | None = None
    age_months: AgeMonths | None = None
    allergies: optional_text(500) = None
    special_needs: optional_text(500) = None
    notes: optional_text(1000) = None
    photo_url: OptionalWebUrl = None
    vaccination_status: optional_text(100) = None


class PetUpdate(Schema):
    """Partial update: absent, null or empty fields keep their value."""

    name: optional_text(100) = None
    pet_type: Annotated[PetType | None, AfterValidator(_blank_to_none)] = None
    breed: optional_text(100) = None
    weight_kg: WeightKg | None = None
    age_months: AgeMonths | None = None
    allergies: optional_text(500) = None
    special_needs: optional_text(500) = None
    notes: optional_text(1000) = None
    photo_url: OptionalWebUrl = None
    vaccination_status: optional_text(100) = None


# --- responses -----------------------------------------------------------------------------------


class PetSpec(Schema):
    pet_type: str
    name: str
    weight_kg: float
    breed: str | None = None
    age_months: int | None = None
    vaccinations: list[Vaccination] = Field(default_factory=list)
    special_needs: str | None = None
    photo_url: str | None = None


class CrateRequirement(Schema):
    minimum_size: CrateSize
    needs_ventilation: bool
    needs_temp_control: bool
    minimum_weight_capacity: float


class RouteSpec(Schema):
    pickup_lat: float
    pickup_lng: float
    dropoff_lat: float
    dropoff_lng: float
    distance_km: float
    estimated_duration_min: int
    polyline: str


class Booking(Schema):
    id: uuid.UUID
    booking_number: str
    owner_id: uuid.UUID
    runner_id: uuid.UUID | None = None
    pet_id: uuid.UUID | None = None
    status: BookingStatus
    pet_spec: PetSpec
    crate_requirement: CrateRequirement
    pickup_address: Address
    dropoff_address: Address
    route_spec: RouteSpec | None = None
    estimated_price_cents: int
    final_price_cents: int | None = None
    currency: str
    scheduled_at: datetime | None = None
    accepted_at: datetime | None = None
    picked_up_at: datetime | None = None
    delivered_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancelled_by: uuid.UUID | None = None
    cancel_note: str | None = None
    notes: str | None = None
    rebooked_from_id: uuid.UUID | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class StatusChange(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    from_status: BookingStatus | None = None
    to_status: BookingStatus
    changed_by: uuid.UUID | None = Field(None, description="user id; omitted for system steps")
    changed_by_role: str = Field(description="owner, runner, admin or system")
    reason: str | None = None
    changed_at: datetime = Field(validation_alias="created_at")


class Photo(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    runner_id: uuid.UUID | None = Field(None, description="the runner who took it, if a runner")
    uploaded_by: uuid.UUID
    uploaded_by_role: str
    photo_type: PhotoType
    photo_url: str
    caption: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    taken_at: datetime
    created_at: datetime


class Pet(Schema):
    id: uuid.UUID
    owner_id: uuid.UUID
    name: str
    pet_type: str
    breed: str | None = None
    weight_kg: float | None = None
    age_months: int | None = None
    allergies: str | None = None
    special_needs: str | None = None
    notes: str | None = None
    photo_url: str | None = None
    vaccination_status: str | None = None
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


class BookingStats(Schema):
    total_bookings: int
    by_status: dict[BookingStatus, int]
