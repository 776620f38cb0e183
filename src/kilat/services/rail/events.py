"""Events the rail service publishes (kilat.contracts.rail and the charges it asks for)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kilat.contracts.charges import RailChargeRequested, RailRefundRequested
from kilat.contracts.rail import (
    RailBookingCancelled,
    RailBookingConfirmed,
    RailBookingCreated,
    RailBookingFailed,
    RailBookingRefunded,
    RailOtpIssued,
    RailPaymentFailed,
    RailTicketsIssued,
)
from kilat.services.rail import domain
from kilat.services.rail.models import Booking, Ticket


def _fact(booking: Booking, now: datetime) -> dict[str, Any]:
    return {"booking_id": booking.id, "pnr": booking.pnr, "user_id": booking.user_id,
            "journey_id": booking.journey_id, "train_name": booking.train_name,
            "journey_date": booking.journey_date.isoformat(), "from_code": booking.from_code,
            "to_code": booking.to_code, "departure_at": booking.departure_at,
            "status": booking.status, "total_fare": booking.total_fare,
            "currency": booking.currency, "passengers": booking.passengers, "occurred_at": now}


def created(booking: Booking, now: datetime) -> RailBookingCreated:
    return RailBookingCreated(**_fact(booking, now))


def otp(booking: Booking, code: str, now: datetime) -> RailOtpIssued:
    return RailOtpIssued(**_fact(booking, now), code=code, expires_at=booking.otp_expires_at)


def confirmed(booking: Booking, now: datetime) -> RailBookingConfirmed:
    return RailBookingConfirmed(**_fact(booking, now))


def failed(booking: Booking, reason: str, now: datetime) -> RailBookingFailed:
    return RailBookingFailed(**_fact(booking, now), reason=reason)


def payment_failed(booking: Booking, reason: str, now: datetime) -> RailPaymentFailed:
    return RailPaymentFailed(**_fact(booking, now), reason=reason)


def cancelled(booking: Booking, refund: domain.Refund | None,
              now: datetime) -> RailBookingCancelled:
    return RailBookingCancelled(**_fact(booking, now),
                                refund_percent=refund.percent if refund else 0,
                                refund_fee=refund.fee if refund else 0,
                                refund_amount=refund.amount if refund else 0)


def refunded(booking: Booking, amount: int, now: datetime) -> RailBookingRefunded:
    return RailBookingRefunded(**_fact(booking, now), refund_amount=amount)


def tickets_issued(booking: Booking, tickets: list[Ticket], now: datetime) -> RailTicketsIssued:
    return RailTicketsIssued(**_fact(booking, now), tickets=[t.ticket_number for t in tickets])


def charge(booking: Booking, now: datetime) -> RailChargeRequested:
    return RailChargeRequested(
        charge_id=booking.charge_id, source="rail", reference_id=booking.id,
        reference=booking.pnr, payer_id=booking.user_id, amount=booking.total_fare,
        currency=booking.currency,
        description=f"{booking.train_name} {booking.from_code}-{booking.to_code} "
                    f"{booking.journey_date} PNR {booking.pnr}",
        requested_at=now)


def refund(booking: Booking, charge_id, amount: int, reason: str, now: datetime,
           refund_id=None) -> RailRefundRequested:
    return RailRefundRequested(
        refund_id=refund_id or domain.refund_id(booking.id), charge_id=charge_id, source="rail",
        reference_id=booking.id, amount=amount, currency=booking.currency, reason=reason,
        requested_at=now)
