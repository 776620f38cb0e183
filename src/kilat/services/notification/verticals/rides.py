"""Notifications of the rides vertical: each step of a request and its ride told to the side it
concerns (both, mostly). Amounts are integer IDR, shown as ``IDR 12,000``."""

from __future__ import annotations

import uuid
from typing import Any

from kilat.contracts.rides import (
    RideArrived,
    RideCancelled,
    RideCompleted,
    RideConfirmed,
    RideDriverFound,
    RideFact,
    RideOffered,
    RidePaymentFailed,
    RideRequested,
    RideSearchEnded,
    RideStarted,
)
from kilat.services.notification.domain import Channel
from kilat.services.notification.notice import Notice, Rule

# steps buzz the phone (the in-app record is always kept); money also goes by e-mail, as a receipt
STEP = frozenset({Channel.PUSH})
MONEY = frozenset({Channel.PUSH, Channel.EMAIL})


def idr(amount: int) -> str:
    return f"IDR {amount:,}"


def _when(fact: RideFact) -> str:
    return fact.occurred_at.isoformat() if fact.occurred_at else ""


def _context(fact: RideFact) -> dict[str, Any]:
    context: dict[str, Any] = {"request_id": str(fact.request_id),
                               "ride_id": str(fact.ride_id) if fact.ride_id else ""}
    for name in ("fare", "adjusted_fare", "admin_fee", "driver_payout"):
        if getattr(fact, name, None) is not None:
            context[name] = idr(getattr(fact, name))
    if getattr(fact, "distance_m", None) is not None:
        context["distance_km"] = f"{fact.distance_m / 1000:.1f}"
    for name in ("vehicle_plate", "vehicle_type", "reason"):
        if getattr(fact, name, None):
            context[name] = str(getattr(fact, name))
    if isinstance(fact, RideOffered):
        context["distance_km"] = f"{fact.distance_km:.1f}"
    return context


def _tell(*parties: str, key: str = "request_id", per_time: bool = False,
          channels: frozenset[Channel] = STEP) -> Rule:
    """The named parties hear the event under ``<type>.<party>``, once per fact."""

    def rule(fact: RideFact) -> list[Notice]:
        notices = []
        for party in parties:
            user: uuid.UUID | None = getattr(fact, f"{party}_id")
            if user is None:
                continue
            fact_key = f"{fact.TYPE}:{getattr(fact, key)}:{party}"
            if per_time:
                fact_key += f":{_when(fact)}"
            notices.append(Notice(user, f"{fact.TYPE}.{party}", _context(fact), fact_key,
                                  channels=channels))
        return notices

    return rule


def ride_cancelled(cancelled: RideCancelled) -> list[Notice]:
    """The other side hears a cancellation (both when the system let a match lapse); a driver
    backing out leaves the passenger searching, which the template says."""
    parties = [p for p in ("passenger", "driver") if p != cancelled.cancelled_by]
    template = "searching" if cancelled.status == "searching" else "ended"
    notices = []
    for party in parties:
        user = getattr(cancelled, f"{party}_id")
        if user is not None:
            notices.append(Notice(user, f"{cancelled.TYPE}.{template}.{party}",
                                  _context(cancelled), f"{cancelled.TYPE}:{cancelled.request_id}:"
                                  f"{party}:{_when(cancelled)}", channels=STEP))
    return notices


RULES: dict[str, Rule] = {
    RideRequested.TYPE: _tell("passenger"),
    RideOffered.TYPE: _tell("driver", key="offer_id"),
    RideDriverFound.TYPE: _tell("passenger", "driver", key="match_id"),
    RideSearchEnded.TYPE: _tell("passenger"),
    RideConfirmed.TYPE: _tell("passenger", "driver", key="match_id"),
    RideCancelled.TYPE: ride_cancelled,
    RideStarted.TYPE: _tell("passenger", "driver", key="ride_id"),
    RideArrived.TYPE: _tell("passenger", "driver", key="ride_id", per_time=True, channels=MONEY),
    RidePaymentFailed.TYPE: _tell("passenger", "driver", key="ride_id", per_time=True,
                                  channels=MONEY),
    RideCompleted.TYPE: _tell("passenger", "driver", key="ride_id", channels=MONEY),
}


def _both(en_title: str, en_body: str, ms_title: str, ms_body: str) -> dict[str, dict[str, str]]:
    return {"en": {"title": en_title, "body": en_body}, "ms": {"title": ms_title, "body": ms_body}}


TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "rides.requested.passenger": _both(
        "Finding you a driver", "We are offering your ride to drivers nearby.",
        "Mencari pemandu", "Kami sedang menawarkan perjalanan anda kepada pemandu berdekatan."),
    "rides.offered.driver": _both(
        "New ride request", "A passenger {distance_km} km away needs a ride. Accept it in the app.",
        "Permintaan perjalanan baharu",
        "Seorang penumpang {distance_km} km dari anda memerlukan perjalanan. "
        "Terima dalam aplikasi."),
    "rides.driver_found.passenger": _both(
        "Driver found", "A driver ({vehicle_plate}) accepted your ride. Confirm to go.",
        "Pemandu ditemui", "Seorang pemandu ({vehicle_plate}) menerima perjalanan anda. "
                           "Sahkan untuk bergerak."),
    "rides.driver_found.driver": _both(
        "Ride accepted", "Waiting for the passenger to confirm.",
        "Perjalanan diterima", "Menunggu penumpang mengesahkan."),
    "rides.search_expired.passenger": _both(
        "No driver available", "No driver accepted your ride in time. Please try again.",
        "Tiada pemandu", "Tiada pemandu menerima perjalanan anda tepat pada masanya. "
                         "Sila cuba lagi."),
    "rides.confirmed.passenger": _both(
        "Ride confirmed", "Your driver is on the way to the pickup point.",
        "Perjalanan disahkan", "Pemandu anda sedang menuju ke tempat menunggu."),
    "rides.confirmed.driver": _both(
        "Ride confirmed", "The passenger confirmed. Head to the pickup point.",
        "Perjalanan disahkan", "Penumpang telah mengesahkan. Sila ke tempat menunggu."),
    "rides.cancelled.ended.passenger": _both(
        "Ride cancelled", "Your ride was cancelled: {reason}",
        "Perjalanan dibatalkan", "Perjalanan anda telah dibatalkan: {reason}"),
    "rides.cancelled.ended.driver": _both(
        "Ride cancelled", "The ride was cancelled: {reason}",
        "Perjalanan dibatalkan", "Perjalanan telah dibatalkan: {reason}"),
    "rides.cancelled.searching.passenger": _both(
        "Finding another driver", "Your driver could not come ({reason}). "
                                  "We are finding you another one.",
        "Mencari pemandu lain", "Pemandu anda tidak dapat datang ({reason}). "
                                "Kami sedang mencari pemandu lain."),
    "rides.cancelled.searching.driver": _both(
        "Match released", "You are no longer matched with this passenger: {reason}",
        "Padanan dilepaskan", "Anda tidak lagi dipadankan dengan penumpang ini: {reason}"),
    "rides.started.passenger": _both(
        "Ride started", "Enjoy your ride. The fare is metered by distance.",
        "Perjalanan bermula", "Selamat menikmati perjalanan. Tambang dikira mengikut jarak."),
    "rides.started.driver": _both(
        "Ride started", "The meter is running. Drive safely.",
        "Perjalanan bermula", "Meter sedang berjalan. Pandu dengan selamat."),
    "rides.arrived.passenger": _both(
        "You have arrived", "{distance_km} km. Your fare is {adjusted_fare}. "
                            "Please accept it in the app to pay.",
        "Anda telah tiba", "{distance_km} km. Tambang anda {adjusted_fare}. "
                           "Sila terima dalam aplikasi untuk membayar."),
    "rides.arrived.driver": _both(
        "Fare sent", "You asked {adjusted_fare} of {fare}; your share will be {driver_payout}.",
        "Tambang dihantar", "Anda meminta {adjusted_fare} daripada {fare}; "
                            "bahagian anda ialah {driver_payout}."),
    "rides.payment_failed.passenger": _both(
        "Payment not completed", "Your payment of {adjusted_fare} did not go through: {reason}. "
                                 "You can try again in the app.",
        "Pembayaran tidak berjaya", "Pembayaran {adjusted_fare} anda tidak berjaya: {reason}. "
                                    "Anda boleh mencuba lagi dalam aplikasi."),
    "rides.payment_failed.driver": _both(
        "Payment not completed", "The passenger's payment did not go through: {reason}.",
        "Pembayaran tidak berjaya", "Pembayaran penumpang tidak berjaya: {reason}."),
    "rides.completed.passenger": _both(
        "Thanks for riding", "Your ride is complete. You were charged {adjusted_fare}.",
        "Terima kasih", "Perjalanan anda selesai. Anda telah dicaj {adjusted_fare}."),
    "rides.completed.driver": _both(
        "Ride complete", "{driver_payout} has been added to your balance.",
        "Perjalanan selesai", "{driver_payout} telah ditambah ke baki anda."),
}

FAMILIES: tuple[str, ...] = ("rides.*",)
