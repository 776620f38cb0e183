"""Request and response bodies of the runner service (snake_case, as the Kilat clients expect)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, field_validator

from kilat.platform.schemas import Int32, OptionalWebUrl, Schema
from kilat.services.runner.domain import CrateSize, PetType, ShopCategory, VehicleType

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


def _stripped(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


Text = Annotated[str, AfterValidator(str.strip), Field(min_length=1)]
OptionalName = Annotated[str | None, Field(max_length=255), AfterValidator(_stripped)]
Phone = Annotated[str | None, Field(max_length=20, pattern=r"^\+?[0-9 ()-]{6,20}$")]
Plate = Annotated[str | None, Field(max_length=20), AfterValidator(_stripped)]
Model100 = Annotated[str | None, Field(max_length=100), AfterValidator(_stripped)]
Year = Annotated[int | None, Field(ge=1950, le=2100)]
Centimetres = Annotated[float | None, Field(gt=0, le=500)]


# --- runners --------------------------------------------------------------------------------------


class RunnerCreate(Schema):
    full_name: OptionalName = None
    phone: Phone = None
    vehicle_type: VehicleType
    vehicle_plate: Plate = None
    vehicle_model: Model100 = None
    vehicle_year: Year = None
    air_conditioned: bool = False


class RunnerUpdate(Schema):
    full_name: OptionalName = None
    phone: Phone = None
    vehicle_type: VehicleType | None = None
    vehicle_plate: Plate = None
    vehicle_model: Model100 = None
    vehicle_year: Year = None
    air_conditioned: bool | None = None
    version: Int32 | None = Field(None, description="optimistic lock: the version you read")


class Position(Schema):
    latitude: Latitude
    longitude: Longitude


class LocationUpdate(Position):
    speed_kmh: float | None = Field(None, ge=0, le=1000, allow_inf_nan=False)
    heading_degrees: float | None = Field(None, ge=0, le=360, allow_inf_nan=False)
    accuracy_m: float | None = Field(None, ge=0, allow_inf_nan=False)
    timestamp: datetime | None = Field(None, description="when the fix was taken (RFC 3339)")

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp needs a timezone (e.g. 2026-02-06T10:30:00Z)")
        return value


MAX_BATCH_FIXES = 50


class TimedFix(LocationUpdate):
    timestamp: datetime = Field(description="when the fix was taken (RFC 3339, with a zone)")


class LocationBatch(Schema):
    """Fixes a phone buffered (offline, or to save battery), in any order; judged by their own
    times, oldest first."""

    fixes: list[TimedFix] = Field(min_length=1, max_length=MAX_BATCH_FIXES)


class FixResult(Schema):
    accepted: bool
    reason: str | None = None


class LocationBatchAck(Schema):
    accepted: int
    ignored: int
    results: list[FixResult]


class LocationAck(Schema):
    message: str
    accepted: bool
    reason: str | None = None


class CrateCreate(Schema):
    size: CrateSize
    pet_types: list[PetType] = Field(min_length=1)
    max_weight_kg: float = Field(gt=0, le=500, allow_inf_nan=False)
    width_cm: Centimetres = None
    height_cm: Centimetres = None
    depth_cm: Centimetres = None
    ventilated: bool = True
    temperature_controlled: bool = False


class CrateUpdate(Schema):
    size: CrateSize | None = None
    pet_types: list[PetType] | None = Field(None, min_length=1)
    max_weight_kg: float | None = Field(None, gt=0, le=500, allow_inf_nan=False)
    width_cm: Centimetres = None
    height_cm: Centimetres = None
    depth_cm: Centimetres = None
    ventilated: bool | None = None
    temperature_controlled: bool | None = None


class CrateSpecOut(Schema):
    id: uuid.UUID
    size: str
    pet_types: list[str]
    max_weight_kg: float
    width_cm: float | None = None
    height_cm: float | None = None
    depth_cm: float | None = None
    ventilated: bool
    temperature_controlled: bool


class RunnerPublic(Schema):
    """What any signed-in user may see of a runner (no phone, no live position)."""

    id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    vehicle_type: str
    vehicle_plate: str | None = None
    vehicle_model: str | None = None
    air_conditioned: bool
    session_status: str
    rating: float
    total_trips: int
    completion_rate: float
    crate_specs: list[CrateSpecOut] = Field(default_factory=list)
    created_at: datetime


class RunnerOut(RunnerPublic):
    """The runner's own profile (and what admins see)."""

    phone: str | None = None
    vehicle_year: int | None = None
    latitude: float | None = Field(None, validation_alias="current_lat")
    longitude: float | None = Field(None, validation_alias="current_lng")
    active_booking_id: uuid.UUID | None = None
    version: int
    updated_at: datetime


class NearbyRunner(RunnerPublic):
    distance_km: float


# --- pet shops ------------------------------------------------------------------------------------

ShopPhone = Annotated[str | None, Field(max_length=20)]


class PetShopCreate(Schema):
    name: Annotated[Text, Field(max_length=255)]
    address: Text
    latitude: Latitude
    longitude: Longitude
    phone: ShopPhone = None
    email: EmailStr | None = None
    category: ShopCategory
    services: list[Annotated[Text, Field(max_length=100)]] = Field(default_factory=list,
                                                                    max_length=50)
    image_url: OptionalWebUrl = None
    opening_hours: Annotated[str | None, Field(max_length=100)] = None
    description: Annotated[str | None, Field(max_length=5000)] = None


class PetShopUpdate(Schema):
    name: Annotated[Text | None, Field(max_length=255)] = None
    address: Text | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    phone: ShopPhone = None
    email: EmailStr | None = None
    category: ShopCategory | None = None
    services: list[Annotated[Text, Field(max_length=100)]] | None = Field(None, max_length=50)
    image_url: OptionalWebUrl = None
    opening_hours: Annotated[str | None, Field(max_length=100)] = None
    description: Annotated[str | None, Field(max_length=5000)] = None
    version: Int32 | None = Field(None, description="optimistic lock: the version you read")


class PetShopOut(Schema):
    id: uuid.UUID
    owner_id: uuid.UUID | None = None
    name: str
    address: str
    latitude: float
    longitude: float
    phone: str | None = None
    email: str | None = None
    category: str
    services: list[str]
    rating: float
    image_url: str | None = None
    opening_hours: str | None = None
    description: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class NearbyPetShop(PetShopOut):
    distance_km: float
