"""Pure ride rules: states, who may do what, matching order, the fare meter and the fee split."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from kilat.platform.geo import haversine_km

CHARGE_NAMESPACE = uuid.UUID("6f1d8a52-3c55-4d4e-9a59-0c7f3f1b2d11")


class RequestStatus(StrEnum):
    SEARCHING = "searching"
    DRIVER_FOUND = "driver_found"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # nobody accepted within the search time


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the request was taken, cancelled or the driver matched elsewhere


class RideStatus(StrEnum):
    PICKUP = "pickup"
    ONGOING = "ongoing"
    AWAITING_PAYMENT = "awaiting_payment"
    PAYMENT_PENDING = "payment_pending"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PaymentStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    NOT_NEEDED = "not_needed"  # nothing to pay: a ride shorter than one km


class Party(StrEnum):
    PASSENGER = "passenger"
    DRIVER = "driver"


class VehicleType(StrEnum):
    MOTORCYCLE = "motorcycle"
    CAR = "car"


ACTIVE_RIDE = (RideStatus.PICKUP, RideStatus.ONGOING, RideStatus.AWAITING_PAYMENT,
               RideStatus.PAYMENT_PENDING)


def party_of(user_id: uuid.UUID, passenger_id: uuid.UUID,
             driver_id: uuid.UUID | None) -> Party | None:
    if user_id == passenger_id:
        return Party.PASSENGER
    if driver_id is not None and user_id == driver_id:
        return Party.DRIVER
    return None


# --- matching ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    driver_id: str
    distance_km: float


def next_offers(candidates: Iterable[Candidate], *, already_offered: set[str], pending: int,
                batch: int, radius_km: float) -> list[Candidate]:
    """Drivers to offer next: within the radius, not offered this request before, nearest first
    (ties by id), so that at most ``batch`` offers are pending at once."""
    room = batch - pending
    if room <= 0:
        return []
    fresh = [c for c in candidates
             if c.driver_id not in already_offered and c.distance_km <= radius_km]
    fresh.sort(key=lambda c: (c.distance_km, c.driver_id))
    return fresh[:room]


def offer_expired(expires_at: datetime, now: datetime) -> bool:
    return expires_at <= now


# --- the fare meter ------------------------------------------------------------------------------


class FixVerdict(StrEnum):
    BILLED = "billed"  # the move from the anchor counts
    JITTER = "jitter"  # too short to tell from GPS noise; carried until the moves add up
    IMPLAUSIBLE = "implausible_speed"
    OUT_OF_ORDER = "out_of_order"


@dataclass(frozen=True, slots=True)
class MeterPolicy:
    jitter_m: float = 10.0
    max_speed_kmh: float = 160.0


@dataclass(frozen=True, slots=True)
class Meter:
    """The driver's track so far: metres billed and the fix the next move is measured from.
    A fix that is not billed leaves the anchor where it was, so no distance is ever lost."""

    anchor_lat: float
    anchor_lng: float
    anchor_at: datetime
    last_fix_at: datetime
    distance_m: float = 0.0

    @classmethod
    def start(cls, latitude: float, longitude: float, at: datetime) -> Meter:
        return cls(latitude, longitude, at, at)

    def record(self, latitude: float, longitude: float, at: datetime,
               policy: MeterPolicy) -> tuple[Meter, FixVerdict, float]:
        """The meter after a fix, the fix's verdict and the metres it added."""
        if at <= self.last_fix_at:
            return self, FixVerdict.OUT_OF_ORDER, 0.0
        moved = replace(self, last_fix_at=at)
        segment_m = haversine_km(self.anchor_lat, self.anchor_lng, latitude, longitude) * 1000
        seconds = (at - self.anchor_at).total_seconds()
        if segment_m < policy.jitter_m:
            return moved, FixVerdict.JITTER, 0.0
        if segment_m / seconds * 3.6 > policy.max_speed_kmh:
            return moved, FixVerdict.IMPLAUSIBLE, 0.0
        billed = replace(moved, anchor_lat=latitude, anchor_lng=longitude, anchor_at=at,
                         distance_m=self.distance_m + segment_m)
        return billed, FixVerdict.BILLED, segment_m


def completed_km(distance_m: float) -> int:
    """Whole kilometres travelled; the final partial kilometre is not billed (rounded down)."""
    return math.floor(distance_m / 1000 + 1e-9)


def fare_for(distance_m: float, per_km: int) -> int:
    """Integer IDR: ``per_km`` for every completed km of the metered track."""
    return completed_km(distance_m) * per_km


# --- the fee split -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settlement:
    fare: int
    adjustment_factor: Decimal
    adjusted_fare: int
    admin_fee: int
    driver_payout: int


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def settle(fare: int, factor: Decimal, fee_percent: int) -> Settlement:
    """The driver charges ``factor`` (0 < factor <= 1) of the metered fare, rounded half up to
    whole IDR; the platform keeps ``fee_percent`` of that, rounded half up; the driver the rest,
    so ``admin_fee + driver_payout == adjusted_fare`` always."""
    if not Decimal(0) < factor <= Decimal(1):
        raise ValueError("adjustment factor must be in (0, 1]")
    adjusted = _half_up(Decimal(fare) * factor)
    fee = _half_up(Decimal(adjusted) * fee_percent / 100)
    return Settlement(fare, factor, adjusted, fee, adjusted - fee)


def charge_id(ride_id: uuid.UUID, attempt: int) -> uuid.UUID:
    """The same ride and attempt always name the same charge: a repeat is never taken twice."""
    return uuid.uuid5(CHARGE_NAMESPACE, f"{ride_id}:{attempt}")


def event_id(kind: str, entity: uuid.UUID, version: int | str = 1) -> uuid.UUID:
    """A deterministic event id, ``{event}:{entity}:{version}``: the broker's de-duplication
    works on it, and the outbox refuses the same fact twice."""
    return uuid.uuid5(CHARGE_NAMESPACE, f"{kind}:{entity}:{version}")
