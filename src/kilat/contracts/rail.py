"""Events the rail service publishes. Amounts are BDT poisha (100 poisha = 1 taka).

The rail service's own ``daily_stats`` are kept from these events; the notification service tells
the passenger. Money moves through ``kilat.contracts.charges`` (``rail.charge_requested`` /
``rail.refund_requested``)."""

from __future__ import annotations

import uuid
from pydantic import Field

from kilat.contracts.base import Contract, Time


class RailBookingFact(Contract):
    SUBJECT = "booking_id"
    FAMILY = "rail"

    booking_id: uuid.UUID
    pnr: str = ""
    user_id: uuid.UUID | None = None
    journey_id: uuid.UUID | None = None
    train_name: str = ""
    journey_date: str = ""  # ISO date (Dhaka), YYYY-MM-DD
    from_code: str = ""
    to_code: str = ""
    departure_at: Time | None = None
    status: str = ""
    total_fare: int = 0
    currency: str = "BDT"
    passengers: int = 0
    occurred_at: Time | None = None


class RailBookingCreated(RailBookingFact):
    TYPE = "rail.booking_created"


class RailBookingConfirmed(RailBookingFact):
    """Paid and seats booked; the tickets are issued in the same transaction."""

    TYPE = "rail.booking_confirmed"


class RailBookingFailed(RailBookingFact):
    """The booking ended without travel: its hold lapsed before payment (``expired``), or the
    seats were lost while the payment was in flight (``failed``, refunded in full)."""

    TYPE = "rail.booking_failed"

    reason: str = ""


class RailBookingCancelled(RailBookingFact):
    TYPE = "rail.booking_cancelled"

    refund_percent: int = 0
    refund_fee: int = 0
    refund_amount: int = 0


class RailBookingRefunded(RailBookingFact):
    """The payment service gave ``refund_amount`` back."""

    TYPE = "rail.booking_refunded"

    refund_amount: int = 0


class RailPaymentFailed(RailBookingFact):
    """A charge was declined; the booking waits for another /pay."""

    TYPE = "rail.payment_failed"

    reason: str = ""


class RailOtpIssued(RailBookingFact):
    """A one-time code for the booking, sent by SMS and e-mail (sensitive: erased once sent)."""

    TYPE = "rail.booking_otp"

    code: str
    expires_at: Time | None = None


class RailTicketsIssued(RailBookingFact):
    TYPE = "rail.tickets_issued"

    tickets: list[str] = Field(default_factory=list)  # ticket numbers, <PNR>-<n>
