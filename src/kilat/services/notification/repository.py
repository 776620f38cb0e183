"""All notification queries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, update

from kilat.platform.repository import Repository
from kilat.platform.models import utcnow
from kilat.services.notification.domain import DeliveryStatus
from kilat.services.notification.models import (
    BookingRef,
    Contact,
    Delivery,
    Notification,
    Preference,
    SinkMessage,
)

DUE_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.DEFERRED.value)


class NotificationRepository(Repository):
    """The notification service's queries: read models, preferences, notifications, deliveries."""

    # contacts and bookings (read models)

    async def contact(self, user_id: uuid.UUID) -> Contact | None:
        return await self.session.get(Contact, user_id)

    async def contact_or_new(self, user_id: uuid.UUID) -> Contact:
        contact = await self.contact(user_id)
        if contact is None:
            contact = Contact(user_id=user_id, locale="en", timezone="UTC", is_banned=False)
            self.session.add(contact)
        return contact

    async def contacts(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, Contact]:
        rows = await self.session.scalars(select(Contact).where(Contact.user_id.in_(user_ids)))
        return {row.user_id: row for row in rows}

    async def booking_ref(self, booking_id: uuid.UUID) -> BookingRef | None:
        return await self.session.get(BookingRef, booking_id)

    async def save_booking_ref(self, booking_id: uuid.UUID, number: str,
                               owner_id: uuid.UUID | None, runner_id: uuid.UUID | None) -> None:
        ref = await self.booking_ref(booking_id)
        if ref is None:
            self.session.add(BookingRef(booking_id=booking_id, booking_number=number,
                                        owner_id=owner_id, runner_id=runner_id))
            return
        ref.booking_number = number or ref.booking_number
        ref.owner_id = owner_id or ref.owner_id
        ref.runner_id = runner_id

    # preferences

    async def preference(self, user_id: uuid.UUID) -> Preference | None:
        return await self.session.scalar(select(Preference).where(Preference.user_id == user_id))

    async def save_fcm_token(self, user_id: uuid.UUID, token: str) -> None:
        """INSERT … ON CONFLICT (user_id) DO UPDATE: one row per user, the latest token kept."""
        table = Preference.__table__
        now = utcnow()
        statement = self.insert(table).values(
            user_id=user_id, fcm_token=token, enable_push=True, enable_sms=True,
            enable_email=True, version=1, created_at=now, updated_at=now)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=["user_id"],
            set_={"fcm_token": token, "version": table.c.version + 1, "updated_at": now}))

    # notifications

    async def insert_notification_once(self, values: dict[str, Any]) -> bool:
        """INSERT … ON CONFLICT (user_id, fact_key) DO NOTHING; True when the row was added.
        A notification to no user is unique by its fact alone (a partial unique index)."""
        table = Notification.__table__
        now = utcnow()
        statement = self.insert(table).values(created_at=now, updated_at=now, **values)
        if values["user_id"] is None:
            statement = statement.on_conflict_do_nothing(
                index_elements=["fact_key"], index_where=table.c.user_id.is_(None))
        else:
            statement = statement.on_conflict_do_nothing(index_elements=["user_id", "fact_key"])
        statement = statement.returning(table.c.id)
        return (await self.session.execute(statement)).first() is not None

    async def notification(self, notification_id: uuid.UUID, *, lock: bool = False) -> Notification | None:
        query = select(Notification).where(Notification.id == notification_id)
        if lock and self.is_postgres:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def notifications(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Notification]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Notification).where(Notification.id.in_(ids)))
        return {row.id: row for row in rows}

    async def notification_of(self, delivery_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(Delivery.notification_id).where(Delivery.id == delivery_id))

    def notifications_query(self, user_id: uuid.UUID | None = None,
                            unread: bool | None = None) -> Select:
        query = select(Notification).order_by(Notification.created_at.desc(), Notification.id.desc())
        if user_id is not None:
            query = query.where(Notification.user_id == user_id)
        if unread is not None:
            query = query.where(Notification.is_read.is_(not unread))
        return query

    async def notifications_before(self, user_id: uuid.UUID, cursor: tuple[datetime, uuid.UUID] | None,
                                   limit: int) -> list[Notification]:
        query = self.notifications_query(user_id)
        if cursor is not None:
            created, last_id = cursor
            query = query.where(or_(Notification.created_at < created,
                                    and_(Notification.created_at == created, Notification.id < last_id)))
        return list((await self.session.scalars(query.limit(limit))).all())

    async def mark_read(self, notification_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(Notification).where(Notification.id == notification_id,
                                       Notification.is_read.is_(False))
            .values(is_read=True, read_at=now, updated_at=now))

    async def mark_all_read(self, user_id: uuid.UUID, now: datetime) -> int:
        result = await self.session.execute(
            update(Notification).where(Notification.user_id == user_id,
                                       Notification.is_read.is_(False))
            .values(is_read=True, read_at=now, updated_at=now))
        return result.rowcount or 0

    async def unread_count(self, user_id: uuid.UUID) -> int:
        return await self.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == user_id, Notification.is_read.is_(False))) or 0

    # deliveries

    async def delivery(self, delivery_id: uuid.UUID, *, lock: bool = False) -> Delivery | None:
        query = select(Delivery).where(Delivery.id == delivery_id)
        if lock:
            # a locked read is the row as it is now, even if this session loaded it before
            query = query.execution_options(populate_existing=True)
            if self.is_postgres:
                query = query.with_for_update()
        return await self.session.scalar(query)

    async def deliveries_of(self, notification_id: uuid.UUID) -> list[Delivery]:
        rows = await self.session.scalars(select(Delivery).where(
            Delivery.notification_id == notification_id).order_by(Delivery.channel))
        return list(rows)

    async def any_due(self, now: datetime) -> bool:
        found = await self.session.scalar(select(Delivery.id).where(
            Delivery.status.in_(DUE_STATUSES), Delivery.next_attempt_at <= now).limit(1))
        return found is not None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Delivery]:
        """Take up to ``limit`` due deliveries for this worker until ``lease_until``.

        Other workers skip the locked rows, and see the lease as a later due time, so a delivery
        is in one worker's hands at a time; a worker that dies loses its lease when it expires.
        """
        query = (select(Delivery)
                 .where(Delivery.status.in_(DUE_STATUSES), Delivery.next_attempt_at <= now)
                 .order_by(Delivery.next_attempt_at).limit(limit))
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        rows = list((await self.session.scalars(query)).all())
        for row in rows:
            row.next_attempt_at = lease_until
        return rows

    def deliveries_query(self, status: str | None = None, channel: str | None = None,
                         user_id: uuid.UUID | None = None) -> Select:
        query = select(Delivery).order_by(Delivery.updated_at.desc(), Delivery.id)
        if status is not None:
            query = query.where(Delivery.status == status)
        if channel is not None:
            query = query.where(Delivery.channel == channel)
        if user_id is not None:
            query = query.where(Delivery.user_id == user_id)
        return query


class SinkMessages(Repository[SinkMessage]):
    """What the development sink was given: newest first, bounded by count and age."""

    model = SinkMessage

    async def recent(self, recipients: list[str] | None, limit: int) -> list[SinkMessage]:
        query = select(SinkMessage)
        if recipients is not None:
            query = query.where(SinkMessage.recipient.in_(recipients))
        rows = await self.session.scalars(
            query.order_by(SinkMessage.sent_at.desc(), SinkMessage.id.desc()).limit(limit))
        return list(rows)

    async def prune(self, older_than: datetime, keep: int) -> int:
        """Forget messages sent before ``older_than`` and all but the newest ``keep``."""
        cutoff = (select(SinkMessage.sent_at).order_by(SinkMessage.sent_at.desc())
                  .offset(keep).limit(1).scalar_subquery())
        aged = await self.update_rows(delete(SinkMessage).where(SinkMessage.sent_at < older_than))
        surplus = await self.update_rows(delete(SinkMessage).where(SinkMessage.sent_at <= cutoff))
        return aged + surplus
