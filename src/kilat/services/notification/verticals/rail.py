"""Notifications of the rail vertical: the booking's one-time code (SMS and e-mail, sensitive),
the booking made, tickets issued, payment declined, cancellation and refund. Amounts are poisha;
the context carries them in taka for the text."""

from __future__ import annotations

from typing import Any

from kilat.contracts.rail import (
    RailBookingCancelled,
    RailBookingCreated,
    RailBookingFact,
    RailBookingFailed,
    RailBookingRefunded,
    RailOtpIssued,
    RailPaymentFailed,
    RailTicketsIssued,
)
from kilat.services.notification.domain import Channel
from kilat.services.notification.notice import Notice, Rule


def _taka(poisha: int) -> str:
    return f"{poisha / 100:,.2f}"


def _context(fact: RailBookingFact) -> dict[str, Any]:
    return {"pnr": fact.pnr, "train_name": fact.train_name,
            "journey_date": fact.journey_date,
            "from_code": fact.from_code, "to_code": fact.to_code,
            "total": _taka(fact.total_fare), "currency": fact.currency,
            "passengers": fact.passengers}


def _told(extra: Any = None, **options: Any) -> Rule:
    """The passenger hears the event once per booking, under the template named after it."""

    def rule(fact: RailBookingFact) -> list[Notice]:
        if fact.user_id is None:
            return []
        context = _context(fact) | (extra(fact) if extra else {})
        return [Notice(fact.user_id, fact.TYPE, context, f"{fact.TYPE}:{fact.booking_id}",
                       **options)]

    return rule


def booking_code(otp: RailOtpIssued) -> list[Notice]:
    if otp.user_id is None:
        return []
    context = _context(otp) | {"code": otp.code,
                               "expires_at": otp.expires_at.isoformat() if otp.expires_at else ""}
    both = frozenset({Channel.SMS, Channel.EMAIL})
    # each code is its own fact: a resent code is delivered too
    return [Notice(otp.user_id, otp.TYPE, context, f"{otp.TYPE}:{otp.booking_id}:{otp.code}:"
                   f"{context['expires_at']}", channels=both, required=both, sensitive=True)]


RULES: dict[str, Rule] = {
    RailOtpIssued.TYPE: booking_code,
    RailBookingCreated.TYPE: _told(),
    RailTicketsIssued.TYPE: _told(lambda f: {"tickets": len(f.tickets)}),
    RailPaymentFailed.TYPE: _told(lambda f: {"reason": f.reason}),
    RailBookingFailed.TYPE: _told(lambda f: {"reason": f.reason}),
    RailBookingCancelled.TYPE: _told(lambda f: {"refund": _taka(f.refund_amount)}),
    RailBookingRefunded.TYPE: _told(lambda f: {"refund": _taka(f.refund_amount)}),
}

TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    RailOtpIssued.TYPE: {
        "en": {"title": "Your booking code",
               "body": "Your Kilat Rail code for PNR {pnr} is {code}. It expires in 5 minutes.",
               "sms": "Kilat Rail code {code} for PNR {pnr}. Valid 5 minutes. Never share it.",
               "email_subject": "Your Kilat Rail booking code",
               "email_body": "Use this code to confirm booking {pnr} ({train_name}, "
                             "{from_code}-{to_code}, {journey_date}): {code}\n"
                             "It expires at {expires_at}. If you did not book, ignore this."},
        "ms": {"title": "Kod tempahan anda",
               "body": "Kod Kilat Rail anda untuk PNR {pnr} ialah {code}. Tamat dalam 5 minit.",
               "sms": "Kod Kilat Rail {code} untuk PNR {pnr}. Sah 5 minit. Jangan kongsi.",
               "email_subject": "Kod tempahan Kilat Rail anda",
               "email_body": "Gunakan kod ini untuk mengesahkan tempahan {pnr} ({train_name}, "
                             "{from_code}-{to_code}, {journey_date}): {code}\n"
                             "Kod tamat pada {expires_at}. Jika anda tidak menempah, abaikan."},
    },
    RailBookingCreated.TYPE: {
        "en": {"title": "Booking created",
               "body": "Booking {pnr}: {passengers} seat(s) on {train_name} {from_code}-{to_code} "
                       "on {journey_date}, {currency} {total}. Confirm it with the code we sent."},
        "ms": {"title": "Tempahan dibuat",
               "body": "Tempahan {pnr}: {passengers} tempat duduk di {train_name} "
                       "{from_code}-{to_code} pada {journey_date}, {currency} {total}."},
    },
    RailTicketsIssued.TYPE: {
        "en": {"title": "Tickets issued",
               "body": "{tickets} ticket(s) for {train_name} {from_code}-{to_code} on "
                       "{journey_date} are ready (PNR {pnr}). Show the QR code at the gate."},
        "ms": {"title": "Tiket dikeluarkan",
               "body": "{tickets} tiket untuk {train_name} {from_code}-{to_code} pada "
                       "{journey_date} sedia (PNR {pnr}). Tunjukkan kod QR di pintu."},
    },
    RailPaymentFailed.TYPE: {
        "en": {"title": "Payment declined",
               "body": "The payment for booking {pnr} failed: {reason}. Your seats stay held "
                       "for a while; try again."},
        "ms": {"title": "Pembayaran ditolak",
               "body": "Pembayaran untuk tempahan {pnr} gagal: {reason}. Cuba lagi."},
    },
    RailBookingFailed.TYPE: {
        "en": {"title": "Booking not completed", "body": "Booking {pnr} ended: {reason}."},
        "ms": {"title": "Tempahan tidak selesai", "body": "Tempahan {pnr} tamat: {reason}."},
    },
    RailBookingCancelled.TYPE: {
        "en": {"title": "Booking cancelled",
               "body": "Booking {pnr} is cancelled. Refund: {currency} {refund}."},
        "ms": {"title": "Tempahan dibatalkan",
               "body": "Tempahan {pnr} dibatalkan. Bayaran balik: {currency} {refund}."},
    },
    RailBookingRefunded.TYPE: {
        "en": {"title": "Refund sent",
               "body": "{currency} {refund} for booking {pnr} is on its way back to you."},
        "ms": {"title": "Bayaran balik dihantar",
               "body": "{currency} {refund} untuk tempahan {pnr} sedang dikembalikan."},
    },
}
FAMILIES: tuple[str, ...] = ("rail.*",)
