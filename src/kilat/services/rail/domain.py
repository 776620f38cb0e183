"""Rail rules without I/O: holds, identifiers, fares, OTP, booking states and the refund table."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

BASE36 = string.digits + string.ascii_uppercase
CHARGE_NAMESPACE = uuid.UUID("5b0c8a34-8f8e-4c51-9a43-6f1d0e2a7a13")


class HoldStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    CONFIRMED = "confirmed"


class BookingStatus(StrEnum):
    PENDING_OTP = "pending_otp"
    PENDING_PAYMENT = "pending_payment"
    PAYMENT_PENDING = "payment_pending"  # charge requested, the payment service has not answered
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the hold lapsed before payment
    FAILED = "failed"  # paid, but the seats were lost meanwhile: refunded in full


UNPAID = frozenset({BookingStatus.PENDING_OTP, BookingStatus.PENDING_PAYMENT})


class TicketStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class SeatState(StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    BOOKED = "booked"


def base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = BASE36[rest] + digits
        if number == 0:
            return digits


def new_pnr(now: datetime) -> str:
    """A base-36 timestamp (seconds) plus 4 random characters, truncated to 10."""
    return (base36(int(now.timestamp())) + _random(4))[:10]


def new_booking_reference(now: datetime) -> str:
    """``BK`` + base-36 time in milliseconds + 4 random characters (at most 20)."""
    return ("BK" + base36(int(now.timestamp() * 1000)) + _random(4))[:20]


def _random(length: int) -> str:
    return "".join(secrets.choice(BASE36) for _ in range(length))


def check_seat_request(seat_ids: list[uuid.UUID], limit: int) -> str | None:
    """Why a hold of ``seat_ids`` is refused, or None."""
    if not 1 <= len(seat_ids) <= limit:
        return f"hold 1 to {limit} seats"
    if len(set(seat_ids)) != len(seat_ids):
        return "a seat is listed twice"
    return None


def on_sale(journey_date: date, departure_at: datetime, today: date, now: datetime,
            open_days: int) -> str | None:
    """Why a journey is not on sale, or None: sales open ``open_days`` ahead and close at
    departure."""
    if departure_at <= now:
        return "the train has departed"
    if journey_date > today + timedelta(days=open_days):
        return f"sales open {open_days} days before departure"
    return None


def extended_deadline(current: datetime, seconds: int) -> datetime:
    """An extension adds to the one deadline both the database and Redis carry."""
    return current + timedelta(seconds=seconds)


def charge_id(booking_id: uuid.UUID, attempt: int) -> uuid.UUID:
    return uuid.uuid5(CHARGE_NAMESPACE, f"rail:{booking_id}:charge:{attempt}")


def refund_id(booking_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(CHARGE_NAMESPACE, f"rail:{booking_id}:refund")


# OTP ------------------------------------------------------------------------------------------

def new_otp() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def otp_hash(booking_id: uuid.UUID, code: str) -> str:
    """The stored form: a hash salted with the booking, never the code itself."""
    return hashlib.sha256(f"rail-otp:{booking_id}:{code}".encode()).hexdigest()


def otp_matches(booking_id: uuid.UUID, code: str, stored: str | None) -> bool:
    return stored is not None and hmac.compare_digest(otp_hash(booking_id, code), stored)


# refunds --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefundTier:
    hours_before: int
    percent: int


# time left before departure -> share of the fare returned, first match wins
REFUND_TABLE: tuple[RefundTier, ...] = (
    RefundTier(48, 90),
    RefundTier(12, 50),
    RefundTier(0, 0),
)


@dataclass(frozen=True)
class Refund:
    percent: int
    fee: int
    amount: int


def refund_for(total: int, departure_at: datetime, now: datetime, fee: int) -> Refund | None:
    """The refund of a paid booking cancelled at ``now``: the table's share of the total minus
    the fixed fee, never below zero. None once the train has departed (no cancellation)."""
    left = departure_at - now
    if left <= timedelta(0):
        return None
    tier = next(t for t in REFUND_TABLE if left >= timedelta(hours=t.hours_before))
    share = total * tier.percent // 100
    charged_fee = min(fee, share)
    return Refund(tier.percent, charged_fee, share - charged_fee)
