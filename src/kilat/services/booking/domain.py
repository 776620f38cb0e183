"""Booking rules without I/O: state machine, pricing, crate requirement, booking numbers."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from kilat.platform.errors import Conflict, Unprocessable
from kilat.platform.geo import encode_polyline, haversine_km


class BookingStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


S = BookingStatus
TRANSITIONS: Mapping[BookingStatus, frozenset[BookingStatus]] = MappingProxyType({
    S.REQUESTED: frozenset({S.ACCEPTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.REQUESTED, S.IN_PROGRESS, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
})

STATUS_VALUES = frozenset(status.value for status in BookingStatus)

# the words clients send in ?status= besides the statuses themselves
STATUS_GROUPS: Mapping[str, frozenset[BookingStatus]] = MappingProxyType({
    "active": frozenset({S.ACCEPTED, S.IN_PROGRESS, S.DELIVERED}),
    "completed": frozenset({S.COMPLETED}),
})


class IllegalTransition(Unprocessable):
    def __init__(self, current: BookingStatus, target: BookingStatus) -> None:
        super().__init__(f"cannot transition from '{current}' to '{target}'")


def check_transition(current: BookingStatus, target: BookingStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)


def check_declinable(current: BookingStatus) -> None:
    """Only an accepted job can be handed back; anything else is a conflict with its progress."""
    if current is not S.ACCEPTED:
        raise Conflict(f"cannot decline booking in state '{current}'")


def parse_status_filter(raw: str | None) -> frozenset[BookingStatus] | None:
    """``requested``, ``active``, ``completed`` or a comma list of statuses; None means all."""
    if raw is None or not raw.strip():
        return None
    statuses: set[BookingStatus] = set()
    for word in (part.strip().lower() for part in raw.split(",")):
        if word in STATUS_GROUPS:
            statuses |= STATUS_GROUPS[word]
        elif word in STATUS_VALUES:
            statuses.add(BookingStatus(word))
        else:
            raise ValueError(f"invalid status filter: {word}")
    return frozenset(statuses)


class DeclineReason(StrEnum):
    TOO_FAR = "too_far"
    CANNOT_TRANSPORT = "cannot_transport"
    ALREADY_BUSY = "already_busy"
    PICKUP_ISSUE = "pickup_issue"
    OTHER = "other"


class PhotoType(StrEnum):
    PICKUP = "pickup"
    DELIVERY = "delivery"


# --- parties -------------------------------------------------------------------------------------


class Party(StrEnum):
    OWNER = "owner"
    RUNNER = "runner"
    ADMIN = "admin"


def party_of(user_id, role: str, owner_id, runner_id) -> Party | None:
    """How the caller relates to a booking: its owner, its assigned runner, an admin, or nobody."""
    if role == "admin":
        return Party.ADMIN
    if user_id == owner_id:
        return Party.OWNER
    if runner_id is not None and user_id == runner_id:
        return Party.RUNNER
    return None


def is_open_job(status: BookingStatus, runner_id) -> bool:
    return status is S.REQUESTED and runner_id is None


# --- pets and crates -----------------------------------------------------------------------------


PET_SURCHARGE_TYPES = ("cat", "dog", "bird", "rabbit", "reptile", "other")
PRICED_AS_OTHER = ("hamster", "fish")
PET_TYPES = PET_SURCHARGE_TYPES + PRICED_AS_OTHER


def normalize_pet_type(pet_type: str) -> str:
    value = pet_type.strip().lower()
    if value not in PET_TYPES:
        raise ValueError(f"invalid pet type: {pet_type}")
    return value


def surcharge_type(pet_type: str) -> str:
    return "other" if pet_type in PRICED_AS_OTHER else pet_type


class CrateSize(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"
    XLARGE = "xlarge"


@dataclass(frozen=True)
class CrateRequirement:
    minimum_size: CrateSize
    needs_ventilation: bool
    needs_temp_control: bool
    minimum_weight_capacity: float


def crate_size(weight_kg: float) -> CrateSize:
    if weight_kg <= 5:
        return CrateSize.SMALL
    if weight_kg <= 15:
        return CrateSize.MEDIUM
    if weight_kg <= 30:
        return CrateSize.LARGE
    return CrateSize.XLARGE


def crate_requirement(pet_type: str, weight_kg: float) -> CrateRequirement:
    return CrateRequirement(
        minimum_size=crate_size(weight_kg),
        needs_ventilation=True,
        needs_temp_control=pet_type == "reptile",
        minimum_weight_capacity=round(weight_kg * 1.2, 2),
    )


# --- pricing -------------------------------------------------------------------------------------


def _frozen(values: dict[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(values))


@dataclass(frozen=True)
class PricingRules:
    base_fare_cents: int = 500
    per_km_cents: int = 250
    pet_surcharge_cents: Mapping[str, int] = field(default_factory=lambda: _frozen(
        {"dog": 500, "cat": 300, "bird": 200, "rabbit": 300, "reptile": 800, "other": 500}))
    crate_surcharge_cents: Mapping[str, int] = field(default_factory=lambda: _frozen(
        {"small": 0, "medium": 500, "large": 1000, "xlarge": 2000}))
    average_speed_kmh: float = 30.0
    currency: str = "MYR"


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


@dataclass(frozen=True)
class Route:
    pickup: Point
    dropoff: Point
    distance_km: float
    estimated_duration_min: int
    polyline: str


@dataclass(frozen=True)
class Quote:
    route: Route
    crate: CrateRequirement
    price_cents: int
    currency: str


def straight_route(pickup: Point, dropoff: Point, average_speed_kmh: float) -> Route:
    distance = haversine_km(pickup.lat, pickup.lng, dropoff.lat, dropoff.lng)
    minutes = math.ceil(distance / average_speed_kmh * 60) if distance > 0 else 0
    line = encode_polyline([(pickup.lat, pickup.lng), (dropoff.lat, dropoff.lng)])
    return Route(pickup, dropoff, distance, minutes, line)


def price_cents(distance_km: float, pet_type: str, crate: CrateSize, rules: PricingRules) -> int:
    """Base fare + distance truncated to whole sen + pet surcharge + crate surcharge."""
    return (
        rules.base_fare_cents
        + math.trunc(distance_km * rules.per_km_cents)
        + rules.pet_surcharge_cents[surcharge_type(pet_type)]
        + rules.crate_surcharge_cents[crate]
    )


def quote(pickup: Point, dropoff: Point, pet_type: str, weight_kg: float,
          rules: PricingRules) -> Quote:
    route = straight_route(pickup, dropoff, rules.average_speed_kmh)
    crate = crate_requirement(pet_type, weight_kg)
    price = price_cents(route.distance_km, pet_type, crate.minimum_size, rules)
    return Quote(route, crate, price, rules.currency)


# --- booking numbers -----------------------------------------------------------------------------

BOOKING_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
BOOKING_NUMBER_LENGTH = 6


def new_booking_number(choice: Callable[[str], str] = secrets.choice) -> str:
    return "BK-" + "".join(choice(BOOKING_NUMBER_ALPHABET) for _ in range(BOOKING_NUMBER_LENGTH))


# --- photos --------------------------------------------------------------------------------------

IMAGE_EXTENSIONS: Mapping[str, str] = MappingProxyType(
    {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"})


def image_type(data: bytes) -> str | None:
    """The image's real type from its first bytes (JPEG, PNG or WebP), whatever the client said."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
