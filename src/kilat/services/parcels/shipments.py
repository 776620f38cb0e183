"""Shipment rules with I/O: the state machine applied, claims and assignments, the timeline,
courier steps and proof of delivery, public tracking."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.parcels import SHIPMENT_EVENTS, ParcelFact, ShipmentOffered
from kilat.platform.auth import Principal
from kilat.platform.db import after_commit
from kilat.platform.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    PayloadTooLarge,
    Unprocessable,
    not_found,
)
from kilat.platform.events import record_event
from kilat.platform.geo import haversine_km
from kilat.platform.models import utcnow
from kilat.services.parcels import domain, webhooks
from kilat.services.parcels.audit import Actor, audit
from kilat.services.parcels.domain import ShipmentStatus as S
from kilat.services.parcels.models import Assignment, Order, RouteStop, Shipment, ShipmentEvent
from kilat.services.parcels.repository import Couriers, Shipments

TRACKED = ("status", "courier_id", "offered_at", "assigned_at", "picked_up_at", "in_transit_at",
           "delivered_at", "failed_at", "failure_reason", "recipient_name", "proof_photo_url")
STAMP = {S.PICKED_UP: "picked_up_at", S.IN_TRANSIT: "in_transit_at", S.DELIVERED: "delivered_at",
         S.FAILED: "failed_at"}
IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def image_type(data: bytes) -> str | None:
    """The image's real type from its first bytes (JPEG, PNG or WebP), whatever the client said."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def snapshot(shipment: Shipment) -> dict[str, Any]:
    return {name: getattr(shipment, name) for name in TRACKED}


def fact(contract: type[ParcelFact], shipment: Shipment, previous: str | None,
         **extra: Any) -> ParcelFact:
    return contract(order_id=shipment.order_id, shipment_id=shipment.id,
                    tracking_number=shipment.tracking_number, customer_id=shipment.customer_id,
                    courier_id=shipment.courier_id, status=shipment.status,
                    previous_status=previous, city=shipment.city, occurred_at=utcnow(), **extra)


class ShipmentService:
    def __init__(self, session: AsyncSession, context: Any) -> None:
        self.session = session
        self.context = context
        self.repo = Shipments(session)

    # --- recording a change ------------------------------------------------------------------

    async def record_change(self, shipment: Shipment, before: dict[str, Any], actor: Actor,
                            contract: type[ParcelFact], *, kind: str = "status_update",
                            **extra: Any) -> None:
        """Timeline row with the JSON diff, the event, webhook deliveries, audit, live frame."""
        changes = domain.diff(before, snapshot(shipment))
        now = utcnow()
        self.session.add(ShipmentEvent(shipment_id=shipment.id, occurred_at=now, kind=kind,
                                       status=shipment.status, actor_role=actor.role,
                                       details=webhooks.jsonable(changes)))
        event = fact(contract, shipment, before.get("status"), **extra)
        await record_event(self.session, event)
        await webhooks.enqueue(self.session, shipment.customer_id, event)
        audit(self.session, actor, f"shipment.{kind}:{shipment.status}", "shipments",
              shipment.id, changes)
        live, number, status = self.context.live, shipment.tracking_number, shipment.status
        for courier_id in {before.get("courier_id"), shipment.courier_id} - {None}:
            after_commit(self.session, lambda c=courier_id: live.forget(c))
        after_commit(self.session, lambda: live.publish_status(number, status, now))
        after_commit(self.session, self.context.webhook_sender.wake)

    async def transition(self, shipment: Shipment, target: S, actor: Actor,
                         **fields: Any) -> Shipment:
        try:
            domain.check_transition(shipment.status, target)
        except domain.TransitionRefused as exc:
            raise Conflict("invalid shipment transition", str(exc)) from exc
        before = snapshot(shipment)
        now = utcnow()
        shipment.status = target
        if target in STAMP:
            setattr(shipment, STAMP[target], now)
        for name, value in fields.items():
            setattr(shipment, name, value)
        if target in domain.ENDS_ASSIGNMENT:
            await self._end_assignment(shipment, target, now)
        elif target in (S.PICKED_UP, S.IN_TRANSIT) and (
                assignment := await self.repo.open_assignment(shipment.id)) is not None:
            assignment.status = target
        if target in domain.TERMINAL:
            shipment.ended_at = now
        await self.session.flush()
        await self.record_change(shipment, before, actor, SHIPMENT_EVENTS[target],
                                 **self._extra(shipment, target))
        return shipment

    def _extra(self, shipment: Shipment, target: S) -> dict[str, Any]:
        if target == S.DELIVERED:
            return {"recipient_name": shipment.recipient_name,
                    "proof_photo_url": shipment.proof_photo_url}
        if target == S.FAILED:
            return {"reason": shipment.failure_reason or ""}
        return {}

    async def _end_assignment(self, shipment: Shipment, target: S, now: datetime) -> None:
        assignment = await self.repo.open_assignment(shipment.id)
        if assignment is not None:
            assignment.status, assignment.ended_at, assignment.end_reason = target, now, target

    # --- creating, offering --------------------------------------------------------------------

    async def create_for(self, order: Order, promised_at: datetime) -> Shipment:
        """The order's shipment with a fresh tracking number (retried on a collision)."""
        for _ in range(8):
            number = domain.tracking_number(utcnow())
            if await self.repo.tracking_number_taken(number):
                continue
            shipment = Shipment(
                order_id=order.id, customer_id=order.customer_id, tracking_number=number,
                status=S.PENDING, city=order.city, promised_at=promised_at,
                pickup_latitude=order.pickup["latitude"], pickup_longitude=order.pickup["longitude"],
                dropoff_latitude=order.dropoff["latitude"],
                dropoff_longitude=order.dropoff["longitude"])
            try:
                async with self.session.begin_nested():
                    self.session.add(shipment)
                    await self.session.flush()
            except IntegrityError:
                continue
            self._add_stops(shipment)
            self.session.add(ShipmentEvent(shipment_id=shipment.id, occurred_at=utcnow(),
                                           kind="created", status=S.PENDING, actor_role="customer",
                                           details={}))
            return shipment
        raise Conflict("could not allocate a tracking number", "retry the request")

    def _add_stops(self, shipment: Shipment) -> None:
        for position, (kind, lat, lng) in enumerate((
                ("pickup", shipment.pickup_latitude, shipment.pickup_longitude),
                ("dropoff", shipment.dropoff_latitude, shipment.dropoff_longitude)), start=1):
            self.session.add(RouteStop(shipment_id=shipment.id, position=position, stop_type=kind,
                                       latitude=lat, longitude=lng,
                                       expected_at=shipment.promised_at if kind == "dropoff"
                                       else None))

    async def offer(self, shipment: Shipment, actor: Actor, courier_ids: list[uuid.UUID]) -> None:
        """The paid shipment opens for claiming and is pushed to the couriers nearby."""
        if shipment.offered_at is not None or shipment.status != S.PENDING:
            return
        before = snapshot(shipment)
        shipment.offered_at = utcnow()
        await self.session.flush()
        await self.record_change(shipment, before, actor, ShipmentOffered, kind="offered",
                                 courier_ids=[str(c) for c in courier_ids],
                                 pickup_latitude=shipment.pickup_latitude,
                                 pickup_longitude=shipment.pickup_longitude)

    # --- dispatch ------------------------------------------------------------------------------

    async def claim(self, shipment_id: uuid.UUID, user: Principal, actor: Actor) -> Shipment:
        """One conditional update and the one-open-assignment index: one winner, 409 for others."""
        courier = await Couriers(self.session).get(user.user_id)
        if courier is None:
            raise Forbidden("register as a courier first", "POST /api/v1/parcels/couriers")
        if courier.status != "online":
            raise Conflict("courier is offline", "go online before claiming shipments")
        return await self._take(shipment_id, courier.user_id, actor, "claim")

    async def assign(self, shipment_id: uuid.UUID, courier_id: uuid.UUID,
                     actor: Actor) -> Shipment:
        """Admin assignment; an open assignment is never overwritten (409)."""
        if await Couriers(self.session).get(courier_id) is None:
            raise not_found("Courier", courier_id)
        return await self._take(shipment_id, courier_id, actor, "admin")

    async def _take(self, shipment_id: uuid.UUID, courier_id: uuid.UUID, actor: Actor,
                    how: str) -> Shipment:
        shipment = await self.repo.get_or_404(shipment_id)
        before = snapshot(shipment)
        if shipment.offered_at is None and shipment.status == S.PENDING:
            raise Conflict("shipment is not open for dispatch", "the order is not paid yet")
        now = utcnow()
        if not await self.repo.claim(shipment_id, courier_id, now):
            raise Conflict("shipment already taken",
                           f"the shipment is {shipment.status} and has an open assignment"
                           if shipment.courier_id else "another courier claimed it first")
        sequence = await self.repo.courier_load(courier_id) + 1
        try:
            async with self.session.begin_nested():
                self.session.add(Assignment(shipment_id=shipment_id, courier_id=courier_id,
                                            status="accepted", how=how,
                                            schedule_sequence=sequence))
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict("shipment already taken", "it has an open assignment") from exc
        shipment = await self.repo.reload(shipment_id)
        await self.record_change(shipment, before, actor, SHIPMENT_EVENTS[S.ASSIGNED],
                                 kind="status_update")
        return shipment

    async def jobs(self, user: Principal, limit: int = 50) -> list[tuple[Shipment, float]]:
        courier = await Couriers(self.session).get(user.user_id)
        if courier is None:
            raise Forbidden("register as a courier first", "POST /api/v1/parcels/couriers")
        here = await self.context.live.position(user.user_id)
        if here is None and courier.last_latitude is not None:
            here = (courier.last_latitude, courier.last_longitude)
        if here is None:  # nowhere yet: no job is near, and none is shown without its distance
            return []
        rows = await self.repo.open_jobs(500)
        placed = [(row, round(haversine_km(*here, row.pickup_latitude, row.pickup_longitude), 2))
                  for row in rows]
        radius = self.context.settings.dispatch_radius_km
        near = [pair for pair in placed if pair[1] <= radius]
        return sorted(near, key=lambda pair: (pair[1], str(pair[0].id)))[:limit]

    # --- courier steps -------------------------------------------------------------------------

    async def courier_shipment(self, shipment_id: uuid.UUID, user: Principal) -> Shipment:
        shipment = await self.repo.get(shipment_id)
        if shipment is None or (shipment.courier_id != user.user_id and not user.is_admin):
            raise not_found("Shipment", shipment_id)
        return shipment

    async def step(self, shipment_id: uuid.UUID, user: Principal, target: S, actor: Actor,
                   **fields: Any) -> Shipment:
        shipment = await self.courier_shipment(shipment_id, user)
        await self._mark_stop(shipment, target)
        shipment = await self.transition(shipment, target, actor, **fields)
        if target == S.DELIVERED:
            order = await self.session.get(Order, shipment.order_id)
            audit(self.session, actor, "order.complete", "orders", order.id,
                  {"status": [order.status, "completed"]})
            order.status = domain.OrderStatus.COMPLETED
        return shipment

    async def _mark_stop(self, shipment: Shipment, target: S) -> None:
        now = utcnow()
        if target == S.PICKED_UP and (stop := await self.repo.stop(shipment.id, "pickup")):
            stop.arrived_at = stop.arrived_at or now
            stop.departed_at = now
        if target == S.DELIVERED and (stop := await self.repo.stop(shipment.id, "dropoff")):
            stop.arrived_at = now

    async def deliver(self, shipment_id: uuid.UUID, user: Principal, actor: Actor,
                      recipient_name: str, photo: bytes | None) -> Shipment:
        shipment = await self.courier_shipment(shipment_id, user)
        try:
            domain.check_transition(shipment.status, S.DELIVERED)
        except domain.TransitionRefused as exc:
            raise Conflict("invalid shipment transition", str(exc)) from exc
        fields: dict[str, Any] = {"recipient_name": recipient_name}
        if photo is not None:
            key, url = await self._store_photo(shipment, photo)
            fields |= {"proof_photo_key": key, "proof_photo_url": url}
        return await self.step(shipment_id, user, S.DELIVERED, actor, **fields)

    async def _store_photo(self, shipment: Shipment, data: bytes) -> tuple[str, str]:
        limit = self.context.settings.photo_max_bytes
        if len(data) > limit:
            raise PayloadTooLarge("photo is too large", f"the limit is {limit} bytes")
        if not data:
            raise BadRequest("photo is empty")
        content_type = image_type(data)
        if content_type is None:
            raise BadRequest("unsupported image type", "upload a JPEG, PNG or WebP image")
        key = f"parcels/{shipment.id}/{uuid.uuid4().hex}.{IMAGE_EXTENSIONS[content_type]}"
        return key, await self.context.storage.put(key, data, content_type)

    async def mark_returned(self, shipment_id: uuid.UUID, user: Principal,
                            actor: Actor) -> Shipment:
        shipment = await self.courier_shipment(shipment_id, user)
        if shipment.status != S.FAILED:
            raise Conflict("invalid shipment transition",
                           f"a shipment cannot go from {shipment.status} to returned")
        return await self.transition(shipment, S.RETURNED, actor)

    # --- reading -------------------------------------------------------------------------------

    async def visible(self, shipment_id: uuid.UUID, user: Principal) -> Shipment:
        """The customer, the assigned courier or an admin; anyone else gets a 404."""
        shipment = await self.repo.get(shipment_id)
        if shipment is None or not (user.is_admin or user.user_id in (shipment.customer_id,
                                                                      shipment.courier_id)):
            raise not_found("Shipment", shipment_id)
        return shipment

    async def public(self, number: str) -> tuple[Shipment, list[ShipmentEvent]]:
        if not domain.is_tracking_number(number):
            raise Unprocessable("invalid tracking number", "the format is DM-YYYYMMDD-XXXXXX")
        shipment = await self.repo.by_tracking_number(number)
        if shipment is None:
            raise not_found("Shipment", number)
        return shipment, await self.repo.timeline(shipment.id)
