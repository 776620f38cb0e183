"""Orders: placing (priced on the server), paying through the payment service by event,
cancelling with the refund rules, the payment service's answers, tracking sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import (
    ChargeCaptured,
    ChargeFailed,
    ChargeRefunded,
    ParcelChargeRequested,
    ParcelRefundRequested,
    RefundFailed,
)
from kilat.contracts.parcels import (
    OrderCancelled,
    OrderPaid,
    OrderPaymentFailed,
    OrderPlaced,
    OrderRefunded,
)
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import Conflict, Unprocessable, not_found
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.parcels import domain
from kilat.services.parcels.audit import SYSTEM, Actor, audit
from kilat.services.parcels.customers import CustomerService, check_position
from kilat.services.parcels.domain import OrderStatus, PaymentStatus
from kilat.services.parcels.domain import ShipmentStatus as S
from kilat.services.parcels.models import Order, OrderItem, Shipment, TrackingSession
from kilat.services.parcels.repository import Orders, Sessions, Shipments
from kilat.services.parcels.schemas import OrderCreate, PlaceIn
from kilat.services.parcels.shipments import ShipmentService, fact

SOURCE = "parcels"


class OrderService:
    def __init__(self, session: AsyncSession, context: Any) -> None:
        self.session = session
        self.context = context
        self.settings = context.settings
        self.repo = Orders(session)
        self.shipments = ShipmentService(session, context)

    # --- placing -------------------------------------------------------------------------------

    async def place(self, user: Principal, body: OrderCreate, actor: Actor) -> tuple[Order, Shipment]:
        customer = await CustomerService(self.session).profile(user)
        pickup = await self._place(user, body.pickup_address)
        dropoff = await self._place(user, body.dropoff_address)
        items = [domain.Item(i.weight_kg, i.length_cm, i.width_cm, i.height_cm, i.quantity)
                 for i in body.items]
        try:
            priced = domain.quote((pickup["latitude"], pickup["longitude"]),
                                  (dropoff["latitude"], dropoff["longitude"]), items,
                                  body.service_level, self.settings.pricing_rules())
        except domain.QuoteRefused as exc:
            raise Unprocessable("order cannot be carried", str(exc)) from exc
        order = Order(customer_id=customer.user_id, status=OrderStatus.AWAITING_PAYMENT,
                      payment_status=PaymentStatus.UNPAID, service_level=body.service_level,
                      source_channel=body.source_channel, pickup=pickup, dropoff=dropoff,
                      city=pickup["city"], distance_km=priced.distance_km,
                      actual_kg=priced.actual_kg, volumetric_kg=priced.volumetric_kg,
                      chargeable_kg=priced.chargeable_kg, price=priced.price,
                      currency=priced.currency)
        self.session.add(order)
        await self.session.flush()
        for position, item in enumerate(body.items, start=1):
            self.session.add(OrderItem(order_id=order.id, position=position, **item.model_dump()))
        hours = (self.settings.express_hours if body.service_level == "express"
                 else self.settings.standard_hours)
        shipment = await self.shipments.create_for(order, utcnow() + timedelta(hours=hours))
        await record_event(self.session, fact(OrderPlaced, shipment, None, price=order.price,
                                              currency=order.currency,
                                              service_level=order.service_level))
        audit(self.session, actor, "order.create", "orders", order.id,
              {"price": order.price, "currency": order.currency, "status": order.status,
               "service_level": order.service_level, "pickup": pickup, "dropoff": dropoff})
        return order, shipment

    async def _place(self, user: Principal, place: PlaceIn) -> dict[str, Any]:
        if place.address_id is not None:
            saved = await CustomerService(self.session).address(user, place.address_id)
            return {"line1": saved.line1, "line2": saved.line2, "city": saved.city,
                    "postal_code": saved.postal_code, "latitude": saved.latitude,
                    "longitude": saved.longitude, "contact_name": saved.contact_name,
                    "contact_phone": saved.contact_phone, "address_id": str(saved.id)}
        check_position(place.latitude, place.longitude)
        return place.model_dump(exclude={"address_id"})

    # --- reading -------------------------------------------------------------------------------

    async def visible(self, order_id: uuid.UUID, user: Principal, *,
                      for_update: bool = False) -> Order:
        """The order's customer or an admin; a stranger gets a 404 (its existence is private)."""
        order = await self.repo.get(order_id, for_update=for_update)
        if order is None or (order.customer_id != user.user_id and not user.is_admin):
            raise not_found("Order", order_id)
        return order

    async def with_parts(self, order: Order) -> tuple[Order, Shipment, list[OrderItem]]:
        return order, await Shipments(self.session).of_order(order.id), await self.repo.items(order.id)

    # --- paying --------------------------------------------------------------------------------

    async def request_charge(self, order_id: uuid.UUID, user: Principal, payment_method: str | None,
                             actor: Actor) -> Order:
        """Ask the payment service to take the price (once per attempt); repeating is harmless."""
        order = await self.visible(order_id, user, for_update=True)
        if order.customer_id != user.user_id:
            raise Conflict("only the customer pays an order")
        if order.status != OrderStatus.AWAITING_PAYMENT:
            if order.status in (OrderStatus.PAYMENT_PENDING, OrderStatus.PAID,
                                OrderStatus.COMPLETED):
                return order
            raise Conflict("order cannot be paid", f"the order is {order.status}")
        order.charge_attempt += 1
        order.charge_id = domain.charge_id(order.id, order.charge_attempt)
        order.status, order.payment_status = OrderStatus.PAYMENT_PENDING, PaymentStatus.PENDING
        order.payment_failure = None
        shipment = await Shipments(self.session).of_order(order.id)
        await self.session.flush()
        await record_event(self.session, ParcelChargeRequested(
            charge_id=order.charge_id, source=SOURCE, reference_id=order.id,
            reference=shipment.tracking_number, payer_id=order.customer_id, amount=order.price,
            currency=order.currency, payment_method=payment_method,
            description=f"Parcel delivery {shipment.tracking_number}", requested_at=utcnow()))
        audit(self.session, actor, "order.pay", "orders", order.id,
              {"status": order.status, "charge_id": order.charge_id,
               "attempt": order.charge_attempt})
        return order

    async def on_captured(self, payload: ChargeCaptured) -> None:
        order = await self.repo.by_charge(payload.charge_id)
        if order is None:
            return
        if order.payment_status != PaymentStatus.PENDING or order.status != OrderStatus.PAYMENT_PENDING:
            if order.status == OrderStatus.CANCELLED and order.payment_status != PaymentStatus.REFUNDED:
                await self._refund(order, order.price, "captured after cancellation")
            return
        now = utcnow()
        order.status, order.payment_status, order.paid_at = OrderStatus.PAID, PaymentStatus.CAPTURED, now
        await self.session.flush()
        shipment = await Shipments(self.session).of_order(order.id)
        await record_event(self.session, fact(OrderPaid, shipment, None, price=order.price,
                                              currency=order.currency))
        audit(self.session, SYSTEM, "order.paid", "orders", order.id,
              {"status": order.status, "payment_status": order.payment_status})
        nearby = await self.context.live.nearby(shipment.pickup_latitude, shipment.pickup_longitude)
        await self.shipments.offer(shipment, SYSTEM, nearby)

    async def on_failed(self, payload: ChargeFailed) -> None:
        order = await self.repo.by_charge(payload.charge_id)
        if order is None or order.payment_status != PaymentStatus.PENDING:
            return
        order.status, order.payment_status = OrderStatus.AWAITING_PAYMENT, PaymentStatus.FAILED
        order.payment_failure = (payload.reason or "declined")[:300]
        await self.session.flush()
        shipment = await Shipments(self.session).of_order(order.id)
        await record_event(self.session, fact(OrderPaymentFailed, shipment, None,
                                              reason=order.payment_failure))
        audit(self.session, SYSTEM, "order.payment_failed", "orders", order.id,
              {"status": order.status, "payment_status": order.payment_status})

    async def on_refunded(self, payload: ChargeRefunded) -> None:
        order = await self.repo.by_charge(payload.charge_id)
        if order is None or payload.refunded_total <= order.refunded_amount:
            return
        order.refunded_amount = payload.refunded_total
        if order.refunded_amount >= order.refund_amount:
            order.payment_status = PaymentStatus.REFUNDED
        await self.session.flush()
        shipment = await Shipments(self.session).of_order(order.id)
        await record_event(self.session, fact(OrderRefunded, shipment, None,
                                              refunded_amount=order.refunded_amount,
                                              currency=order.currency))
        audit(self.session, SYSTEM, "order.refunded", "orders", order.id,
              {"refunded_amount": order.refunded_amount, "payment_status": order.payment_status})

    async def on_refund_failed(self, payload: RefundFailed) -> None:
        order = await self.repo.by_charge(payload.charge_id)
        if order is not None:
            audit(self.session, SYSTEM, "order.refund_failed", "orders", order.id,
                  {"reason": payload.reason})

    # --- cancelling ----------------------------------------------------------------------------

    async def cancel(self, order_id: uuid.UUID, user: Principal, reason: str,
                     actor: Actor) -> Order:
        order = await self.visible(order_id, user, for_update=True)
        shipment = await Shipments(self.session).of_order(order.id)
        try:
            decision = domain.cancellation(order.status, shipment.status, order.price,
                                           self.settings.cancel_fee_percent)
        except domain.CancelRefused as exc:
            raise Conflict("order cannot be cancelled", str(exc)) from exc
        before = order.status
        order.status, order.cancelled_at = OrderStatus.CANCELLED, utcnow()
        order.cancel_reason = (reason or decision.reason)[:300]
        await self.session.flush()
        if shipment.status in (S.PENDING, S.ASSIGNED):
            await self.shipments.transition(shipment, S.CANCELLED, actor)
        if decision.refund > 0:
            await self._refund(order, decision.refund, decision.reason)
        await record_event(self.session, fact(OrderCancelled, shipment, None,
                                              refund_amount=decision.refund,
                                              currency=order.currency, reason=decision.reason))
        audit(self.session, actor, "order.cancel", "orders", order.id,
              {"status": [before, order.status], "refund_amount": decision.refund})
        return order

    async def _refund(self, order: Order, amount: int, reason: str) -> None:
        order.payment_status, order.refund_amount = PaymentStatus.REFUND_PENDING, amount
        await record_event(self.session, ParcelRefundRequested(
            refund_id=domain.refund_id(order.id), charge_id=order.charge_id, source=SOURCE,
            reference_id=order.id, amount=amount, currency=order.currency, reason=reason,
            requested_at=utcnow()))

    # --- tracking sessions ---------------------------------------------------------------------

    async def open_session(self, order_id: uuid.UUID, user: Principal,
                           actor: Actor) -> tuple[TrackingSession, Shipment]:
        order = await self.visible(order_id, user)
        if order.customer_id != user.user_id:
            raise not_found("Order", order_id)
        shipment = await Shipments(self.session).of_order(order.id)
        tracking = TrackingSession(
            order_id=order.id, customer_id=order.customer_id, session_token=uuid.uuid4(),
            expires_at=utcnow() + timedelta(seconds=self.settings.tracking_session_seconds))
        self.session.add(tracking)
        await self.session.flush()
        audit(self.session, actor, "tracking_session.create", "tracking_sessions", tracking.id,
              {"order_id": order.id, "expires_at": tracking.expires_at})
        return tracking, shipment

    async def revoke_session(self, order_id: uuid.UUID, session_id: uuid.UUID, user: Principal,
                             actor: Actor) -> None:
        order = await self.visible(order_id, user)
        tracking = await Sessions(self.session).get(session_id)
        if tracking is None or tracking.order_id != order.id:
            raise not_found("Tracking session", session_id)
        if tracking.revoked_at is None:
            tracking.revoked_at = utcnow()
            shipment = await Shipments(self.session).of_order(order.id)
            live, number, token = self.context.live, shipment.tracking_number, str(tracking.session_token)
            after_commit(self.session, lambda: live.revoke(number, token))
            audit(self.session, actor, "tracking_session.revoke", "tracking_sessions",
                  tracking.id, {"revoked_at": tracking.revoked_at})
