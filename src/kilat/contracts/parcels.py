"""Events the parcels service publishes (notifications, webhooks and other services read them).

Every fact names the order (its ``SUBJECT``: an order's events stay in order) and the shipment,
with its tracking number and the customer's identity user id, so a notification reaches the
user who placed the order."""

from __future__ import annotations

import uuid

from pydantic import Field

from kilat.contracts.base import Contract, Time


class ParcelFact(Contract):
    SUBJECT = "order_id"
    FAMILY = "parcels"

    order_id: uuid.UUID
    shipment_id: uuid.UUID | None = None
    tracking_number: str = ""
    customer_id: uuid.UUID | None = None
    courier_id: uuid.UUID | None = None
    status: str = ""
    previous_status: str | None = None
    city: str = ""
    occurred_at: Time | None = None


class OrderPlaced(ParcelFact):
    TYPE = "parcels.order_placed"

    price: int = 0
    currency: str = ""
    service_level: str = ""


class OrderPaid(ParcelFact):
    TYPE = "parcels.order_paid"

    price: int = 0
    currency: str = ""


class OrderPaymentFailed(ParcelFact):
    TYPE = "parcels.order_payment_failed"

    reason: str = ""


class OrderCancelled(ParcelFact):
    TYPE = "parcels.order_cancelled"

    refund_amount: int = 0
    currency: str = ""
    reason: str = ""


class OrderRefunded(ParcelFact):
    TYPE = "parcels.order_refunded"

    refunded_amount: int = 0
    currency: str = ""


class ShipmentOffered(ParcelFact):
    """A paid shipment is open for claiming; ``courier_ids`` are the online couriers nearby
    it was pushed to (any eligible courier may still claim it from the jobs list)."""

    TYPE = "parcels.shipment_offered"

    courier_ids: list[str] = Field(default_factory=list)  # identity user ids
    pickup_latitude: float | None = None
    pickup_longitude: float | None = None

    @property
    def couriers(self) -> list[uuid.UUID]:
        return [uuid.UUID(courier) for courier in self.courier_ids]


class ShipmentAssigned(ParcelFact):
    TYPE = "parcels.shipment_assigned"


class ShipmentPickedUp(ParcelFact):
    TYPE = "parcels.shipment_picked_up"


class ShipmentInTransit(ParcelFact):
    TYPE = "parcels.shipment_in_transit"


class ShipmentDelivered(ParcelFact):
    TYPE = "parcels.shipment_delivered"

    recipient_name: str | None = None
    proof_photo_url: str | None = None


class ShipmentFailed(ParcelFact):
    TYPE = "parcels.shipment_failed"

    reason: str = ""


class ShipmentReturned(ParcelFact):
    TYPE = "parcels.shipment_returned"


class ShipmentCancelled(ParcelFact):
    TYPE = "parcels.shipment_cancelled"


class CustomerErased(Contract):
    """The customer's personal data was erased here; others holding copies erase theirs."""

    TYPE = "parcels.customer_erased"
    SUBJECT = "customer_id"

    customer_id: uuid.UUID
    erased_at: Time | None = None


SHIPMENT_EVENTS: dict[str, type[ParcelFact]] = {
    "assigned": ShipmentAssigned, "picked_up": ShipmentPickedUp, "in_transit": ShipmentInTransit,
    "delivered": ShipmentDelivered, "failed": ShipmentFailed, "returned": ShipmentReturned,
    "cancelled": ShipmentCancelled,
}
