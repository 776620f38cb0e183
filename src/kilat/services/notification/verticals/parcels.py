"""Notifications of the parcels vertical: the customer (by identity user id, the one their
devices are registered under) hears each step of a shipment; the couriers nearby hear of a new
job when a paid shipment is offered."""

from __future__ import annotations

from typing import Any

from kilat.contracts.parcels import (
    OrderCancelled,
    OrderPaid,
    OrderPaymentFailed,
    OrderRefunded,
    ParcelFact,
    ShipmentAssigned,
    ShipmentDelivered,
    ShipmentFailed,
    ShipmentInTransit,
    ShipmentOffered,
    ShipmentPickedUp,
    ShipmentReturned,
)
from kilat.services.notification.domain import format_money
from kilat.services.notification.notice import Notice, Rule


def _context(fact: ParcelFact) -> dict[str, Any]:
    context: dict[str, Any] = {"tracking_number": fact.tracking_number, "city": fact.city,
                               "reason": getattr(fact, "reason", "") or "-"}
    for name in ("price", "refund_amount", "refunded_amount"):
        if getattr(fact, name, None):
            context[name] = format_money(getattr(fact, name))
    return context


def _to_customer(fact: ParcelFact) -> list[Notice]:
    if fact.customer_id is None:
        return []
    return [Notice(fact.customer_id, fact.TYPE, _context(fact), f"{fact.TYPE}:{fact.order_id}")]


def _to_couriers_nearby(offer: ShipmentOffered) -> list[Notice]:
    return [Notice(courier, offer.TYPE, _context(offer), f"{offer.TYPE}:{offer.order_id}:{courier}")
            for courier in offer.couriers]


RULES: dict[str, Rule] = {
    **{contract.TYPE: _to_customer for contract in (
        OrderPaid, OrderPaymentFailed, OrderCancelled, OrderRefunded, ShipmentAssigned,
        ShipmentPickedUp, ShipmentInTransit, ShipmentDelivered, ShipmentFailed,
        ShipmentReturned)},
    ShipmentOffered.TYPE: _to_couriers_nearby,
}

TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    OrderPaid.TYPE: {
        "en": {"title": "Order Confirmed", "body": "We received {price} for parcel {tracking_number}; "
               "a courier will pick it up soon"},
        "ms": {"title": "Pesanan Disahkan", "body": "Kami telah menerima {price} untuk bungkusan "
               "{tracking_number}; kurier akan mengambilnya tidak lama lagi"},
    },
    OrderPaymentFailed.TYPE: {
        "en": {"title": "Payment Failed", "body": "Payment for parcel {tracking_number} did not go "
               "through ({reason}); please try again"},
        "ms": {"title": "Pembayaran Gagal", "body": "Pembayaran untuk bungkusan {tracking_number} "
               "tidak berjaya ({reason}); sila cuba lagi"},
    },
    OrderCancelled.TYPE: {
        "en": {"title": "Order Cancelled", "body": "Parcel {tracking_number} was cancelled"},
        "ms": {"title": "Pesanan Dibatalkan", "body": "Bungkusan {tracking_number} telah dibatalkan"},
    },
    OrderRefunded.TYPE: {
        "en": {"title": "Refund Sent", "body": "{refunded_amount} for parcel {tracking_number} is "
               "on its way back to you"},
        "ms": {"title": "Bayaran Balik Dihantar", "body": "{refunded_amount} untuk bungkusan "
               "{tracking_number} sedang dikembalikan kepada anda"},
    },
    ShipmentOffered.TYPE: {
        "en": {"title": "New Delivery Job", "body": "A parcel near you in {city} is waiting for "
               "a courier: {tracking_number}"},
        "ms": {"title": "Tugasan Penghantaran Baharu", "body": "Sebuah bungkusan berhampiran anda "
               "di {city} menunggu kurier: {tracking_number}"},
    },
    ShipmentAssigned.TYPE: {
        "en": {"title": "Courier Assigned", "body": "A courier is on the way to collect parcel "
               "{tracking_number}"},
        "ms": {"title": "Kurier Ditugaskan", "body": "Kurier sedang dalam perjalanan untuk mengambil "
               "bungkusan {tracking_number}"},
    },
    ShipmentPickedUp.TYPE: {
        "en": {"title": "Parcel Picked Up", "body": "Parcel {tracking_number} has been picked up"},
        "ms": {"title": "Bungkusan Diambil", "body": "Bungkusan {tracking_number} telah diambil"},
    },
    ShipmentInTransit.TYPE: {
        "en": {"title": "Parcel In Transit", "body": "Parcel {tracking_number} is on its way"},
        "ms": {"title": "Bungkusan Dalam Perjalanan",
               "body": "Bungkusan {tracking_number} sedang dalam perjalanan"},
    },
    ShipmentDelivered.TYPE: {
        "en": {"title": "Delivered!", "body": "Parcel {tracking_number} has been delivered"},
        "ms": {"title": "Telah Dihantar!", "body": "Bungkusan {tracking_number} telah dihantar"},
    },
    ShipmentFailed.TYPE: {
        "en": {"title": "Delivery Attempt Failed",
               "body": "We could not deliver parcel {tracking_number}: {reason}"},
        "ms": {"title": "Penghantaran Tidak Berjaya",
               "body": "Kami tidak dapat menghantar bungkusan {tracking_number}: {reason}"},
    },
    ShipmentReturned.TYPE: {
        "en": {"title": "Parcel Returned", "body": "Parcel {tracking_number} was returned to the sender"},
        "ms": {"title": "Bungkusan Dipulangkan",
               "body": "Bungkusan {tracking_number} telah dipulangkan kepada pengirim"},
    },
}
FAMILIES: tuple[str, ...] = ("parcels.*",)
