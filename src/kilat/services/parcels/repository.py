"""All parcels queries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple
from sqlalchemy import Select, and_, func, or_, select, update

from kilat.platform.repository import Repository
from kilat.services.parcels.domain import OPEN_FOR_COURIER, ShipmentStatus
from kilat.services.parcels.models import (
    Ad,
    Assignment,
    AuditLog,
    BackgroundJob,
    Courier,
    Customer,
    DeliveryAddress,
    FeatureFlag,
    Order,
    OrderItem,
    RouteStop,
    Shipment,
    ShipmentEvent,
    SystemSetting,
    TrackingSession,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)


class Room(NamedTuple):
    """A courier's open shipment, as a live tracking room sees it."""

    shipment_id: uuid.UUID
    tracking_number: str
    status: str
    pickup: tuple[float, float]
    dropoff: tuple[float, float]


class Customers(Repository[Customer]):
    model, entity = Customer, "Customer"

    async def addresses(self, customer_id: uuid.UUID) -> list[DeliveryAddress]:
        return list(await self.session.scalars(
            select(DeliveryAddress).where(DeliveryAddress.customer_id == customer_id)
            .order_by(DeliveryAddress.created_at, DeliveryAddress.id)))

    async def clear_default(self, customer_id: uuid.UUID, keep: uuid.UUID | None) -> None:
        await self.update_rows(update(DeliveryAddress).where(
            DeliveryAddress.customer_id == customer_id, DeliveryAddress.id != keep)
            .values(is_default=False))


class Couriers(Repository[Courier]):
    model, entity = Courier, "Courier"


class Orders(Repository[Order]):
    model, entity = Order, "Order"

    async def by_charge(self, charge_id: uuid.UUID) -> Order | None:
        return await self.session.scalar(
            select(Order).where(Order.charge_id == charge_id).with_for_update())

    async def items(self, order_id: uuid.UUID) -> list[OrderItem]:
        return list(await self.session.scalars(
            select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.position)))

    def of_customer(self, customer_id: uuid.UUID | None, status: str | None) -> Select:
        query = select(Order).order_by(Order.created_at.desc(), Order.id)
        if customer_id is not None:
            query = query.where(Order.customer_id == customer_id)
        if status is not None:
            query = query.where(Order.status == status)
        return query

    async def of_customer_all(self, customer_id: uuid.UUID) -> list[Order]:
        return list(await self.session.scalars(select(Order).where(
            Order.customer_id == customer_id)))


class Shipments(Repository[Shipment]):
    model, entity = Shipment, "Shipment"

    async def of_order(self, order_id: uuid.UUID) -> Shipment | None:
        return await self.session.scalar(select(Shipment).where(Shipment.order_id == order_id))

    async def of_orders(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, Shipment]:
        rows = await self.session.scalars(select(Shipment).where(Shipment.order_id.in_(order_ids)))
        return {row.order_id: row for row in rows}

    async def by_tracking_number(self, number: str) -> Shipment | None:
        return await self.session.scalar(select(Shipment).where(Shipment.tracking_number == number))

    async def tracking_number_taken(self, number: str) -> bool:
        return await self.session.scalar(
            select(func.count()).where(Shipment.tracking_number == number)) > 0

    async def reload(self, shipment_id: uuid.UUID) -> Shipment:
        return await self.session.get(Shipment, shipment_id, populate_existing=True)

    async def claim(self, shipment_id: uuid.UUID, courier_id: uuid.UUID, now: datetime) -> bool:
        """One conditional update: only a paid, pending, unassigned shipment is taken."""
        taken = await self.update_rows(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.status == ShipmentStatus.PENDING,
                   Shipment.courier_id.is_(None), Shipment.offered_at.is_not(None))
            .values(status=ShipmentStatus.ASSIGNED, courier_id=courier_id, assigned_at=now,
                    updated_at=now, version=Shipment.version + 1))
        return taken == 1

    async def open_jobs(self, limit: int) -> list[Shipment]:
        return list(await self.session.scalars(
            select(Shipment).where(Shipment.status == ShipmentStatus.PENDING,
                                   Shipment.courier_id.is_(None), Shipment.offered_at.is_not(None))
            .order_by(Shipment.offered_at, Shipment.id).limit(limit)))

    async def open_for_courier(self, courier_id: uuid.UUID) -> list[Shipment]:
        return list(await self.session.scalars(
            select(Shipment).where(Shipment.courier_id == courier_id,
                                   Shipment.status.in_(list(OPEN_FOR_COURIER)))
            .order_by(Shipment.assigned_at)))

    async def rooms_of_courier(self, courier_id: uuid.UUID) -> list[Room]:
        rows = await self.session.execute(
            select(Shipment.id, Shipment.tracking_number, Shipment.status,
                   Shipment.pickup_latitude, Shipment.pickup_longitude,
                   Shipment.dropoff_latitude, Shipment.dropoff_longitude).where(
                Shipment.courier_id == courier_id,
                Shipment.status.in_(list(OPEN_FOR_COURIER))))
        return [Room(row[0], row[1], row[2], (row[3], row[4]), (row[5], row[6])) for row in rows]

    def of_courier(self, courier_id: uuid.UUID | None, status: str | None) -> Select:
        query = select(Shipment).order_by(Shipment.created_at.desc(), Shipment.id)
        if courier_id is not None:
            query = query.where(Shipment.courier_id == courier_id)
        if status is not None:
            query = query.where(Shipment.status == status)
        return query

    async def route_of(self, courier_id: uuid.UUID) -> list[tuple[Assignment, Shipment, RouteStop]]:
        """The courier's open run: each open assignment's stops not yet left, in run order."""
        rows = await self.session.execute(
            select(Assignment, Shipment, RouteStop)
            .join(Shipment, Shipment.id == Assignment.shipment_id)
            .join(RouteStop, RouteStop.shipment_id == Shipment.id)
            .where(Assignment.courier_id == courier_id, Assignment.ended_at.is_(None),
                   RouteStop.departed_at.is_(None), ~and_(RouteStop.stop_type == "dropoff",
                                                          RouteStop.arrived_at.is_not(None)))
            .order_by(Assignment.schedule_sequence, RouteStop.position))
        return [(row[0], row[1], row[2]) for row in rows]

    async def open_assignment(self, shipment_id: uuid.UUID) -> Assignment | None:
        return await self.session.scalar(select(Assignment).where(
            Assignment.shipment_id == shipment_id, Assignment.ended_at.is_(None)))

    async def courier_load(self, courier_id: uuid.UUID) -> int:
        return await self.session.scalar(select(func.count()).where(
            Assignment.courier_id == courier_id, Assignment.ended_at.is_(None)))

    async def stops(self, shipment_id: uuid.UUID) -> list[RouteStop]:
        return list(await self.session.scalars(
            select(RouteStop).where(RouteStop.shipment_id == shipment_id)
            .order_by(RouteStop.position)))

    async def stop(self, shipment_id: uuid.UUID, stop_type: str) -> RouteStop | None:
        return await self.session.scalar(select(RouteStop).where(
            RouteStop.shipment_id == shipment_id, RouteStop.stop_type == stop_type))

    async def timeline(self, shipment_id: uuid.UUID) -> list[ShipmentEvent]:
        return list(await self.session.scalars(
            select(ShipmentEvent).where(ShipmentEvent.shipment_id == shipment_id)
            .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)))

    async def with_photos_of(self, customer_id: uuid.UUID) -> list[Shipment]:
        return list(await self.session.scalars(select(Shipment).where(
            Shipment.customer_id == customer_id)))


class Sessions(Repository[TrackingSession]):
    model, entity = TrackingSession, "Tracking session"

    async def by_token(self, token: uuid.UUID) -> TrackingSession | None:
        return await self.session.scalar(
            select(TrackingSession).where(TrackingSession.session_token == token))

    async def expired(self, now: datetime, limit: int = 500) -> list[TrackingSession]:
        return list(await self.session.scalars(
            select(TrackingSession).where(TrackingSession.closed_at.is_(None), or_(
                TrackingSession.expires_at <= now, TrackingSession.revoked_at.is_not(None)))
            .limit(limit)))

    async def live_of_customer(self, customer_id: uuid.UUID) -> list[TrackingSession]:
        return list(await self.session.scalars(select(TrackingSession).where(
            TrackingSession.customer_id == customer_id, TrackingSession.revoked_at.is_(None))))


class Webhooks(Repository[Webhook]):
    model, entity = Webhook, "Webhook"

    async def of_customer(self, customer_id: uuid.UUID) -> list[Webhook]:
        return list(await self.session.scalars(
            select(Webhook).where(Webhook.customer_id == customer_id, Webhook.deleted_at.is_(None))
            .order_by(Webhook.created_at)))

    async def listening(self, customer_id: uuid.UUID) -> list[Webhook]:
        return list(await self.session.scalars(select(Webhook).where(
            Webhook.customer_id == customer_id, Webhook.active.is_(True),
            Webhook.deleted_at.is_(None))))

    async def delivery(self, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        return await self.session.scalar(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))

    async def attempts(self, delivery_id: uuid.UUID) -> list[WebhookAttempt]:
        return list(await self.session.scalars(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.attempt)))

    def deliveries(self, webhook_id: uuid.UUID) -> Select:
        return (select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id))

    async def due(self, now: datetime, limit: int) -> list[tuple[uuid.UUID, datetime]]:
        rows = await self.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.created_at).where(
                WebhookDelivery.status.in_(("pending", "failed")),
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now))
            .order_by(WebhookDelivery.next_attempt_at).limit(limit))
        return [(row[0], row[1]) for row in rows]

    async def lock(self, delivery_id: uuid.UUID, created_at: datetime, now: datetime,
                   until: datetime) -> bool:
        """Take a due delivery for one sender: a conditional update only one instance wins."""
        return await self.update_rows(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.created_at == created_at,
            WebhookDelivery.status.in_(("pending", "failed")),
            or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now))
            .values(locked_until=until)) == 1

    async def give_up_pending(self, webhook_id: uuid.UUID) -> int:
        return await self.update_rows(update(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook_id,
            WebhookDelivery.status.in_(("pending", "failed")))
            .values(status="permanent_failure", next_attempt_at=None,
                    last_error="webhook disabled"))


class Audits(Repository[AuditLog]):
    model, entity = AuditLog, "Audit entry"

    def search(self, table: str | None, target: str | None, actor: uuid.UUID | None) -> Select:
        query = select(AuditLog).order_by(AuditLog.created_at.desc(), AuditLog.id)
        conditions = [c for c in (
            AuditLog.table_name == table if table else None,
            AuditLog.target_id == target if target else None,
            AuditLog.actor_id == actor if actor else None) if c is not None]
        return query.where(and_(*conditions)) if conditions else query


class Jobs(Repository[BackgroundJob]):
    model, entity = BackgroundJob, "Job"

    async def due(self, now: datetime, limit: int = 5) -> list[uuid.UUID]:
        return list(await self.session.scalars(
            select(BackgroundJob.id).where(
                or_(BackgroundJob.status == "queued",
                    and_(BackgroundJob.status == "running", BackgroundJob.locked_until < now)),
                BackgroundJob.available_at <= now)
            .order_by(BackgroundJob.available_at).limit(limit)))

    async def take(self, job_id: uuid.UUID, now: datetime, until: datetime) -> bool:
        """Claim a job with one conditional update: it runs once across instances."""
        return await self.update_rows(update(BackgroundJob).where(
            BackgroundJob.id == job_id, BackgroundJob.available_at <= now,
            or_(BackgroundJob.status == "queued",
                and_(BackgroundJob.status == "running", BackgroundJob.locked_until < now)))
            .values(status="running", locked_until=until, attempt=BackgroundJob.attempt + 1,
                    updated_at=now)) == 1

    def listing(self, status: str | None, name: str | None) -> Select:
        query = select(BackgroundJob).order_by(BackgroundJob.created_at.desc(), BackgroundJob.id)
        if status:
            query = query.where(BackgroundJob.status == status)
        if name:
            query = query.where(BackgroundJob.name == name)
        return query


class Ads(Repository[Ad]):
    model, entity = Ad, "Ad"

    async def live(self, now: datetime) -> list[Ad]:
        return list(await self.session.scalars(select(Ad).where(
            Ad.active.is_(True), or_(Ad.starts_at.is_(None), Ad.starts_at <= now),
            or_(Ad.ends_at.is_(None), Ad.ends_at > now)).order_by(Ad.created_at)))


class Ops(Repository[FeatureFlag]):
    model, entity = FeatureFlag, "Flag"

    async def flags(self) -> list[FeatureFlag]:
        return list(await self.session.scalars(select(FeatureFlag).order_by(FeatureFlag.key)))

    async def settings(self) -> list[SystemSetting]:
        return list(await self.session.scalars(select(SystemSetting).order_by(SystemSetting.key)))

    async def ads(self) -> list[Ad]:
        return list(await self.session.scalars(select(Ad).order_by(Ad.created_at)))
