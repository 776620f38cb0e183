"""The deliveries table as the retry queue: claim due rows, record outcomes, dead letters, replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import Conflict, not_found
from kilat.services.notification import domain
from kilat.services.notification.domain import DeliveryStatus
from kilat.services.notification.models import Delivery, Notification
from kilat.services.notification.repository import NotificationRepository
from kilat.services.notification.service import wake_after_commit
from kilat.services.notification.settings import NotificationSettings


REDACTED = "[redacted]"


class DeliveryQueue:
    """The deliveries table as a retry queue: claim, record outcomes, dead letters, replay."""

    def __init__(self, session: AsyncSession, settings: NotificationSettings,
                 wake: Callable[[], None] | None = None) -> None:
        self.session = session
        self.repo = NotificationRepository(session)
        self.settings = settings
        self.wake = wake

    async def any_due(self, now: datetime) -> bool:
        return await self.repo.any_due(now)

    async def claim(self, now: datetime) -> list[tuple[Delivery, Notification]]:
        lease = now + timedelta(seconds=self.settings.claim_lease_seconds)
        deliveries = await self.repo.claim_due(now, lease, self.settings.worker_batch_size)
        notes = await self.repo.notifications({d.notification_id for d in deliveries})
        return [(d, notes[d.notification_id]) for d in deliveries]

    async def quiet_until(self, user_id: uuid.UUID, now: datetime) -> datetime | None:
        preference = await self.repo.preference(user_id)
        contact = await self.repo.contact(user_id)
        if preference is None:
            return None
        zone = domain.parse_timezone(contact.timezone if contact else self.settings.default_timezone)
        return domain.quiet_hours_end(now, preference.quiet_hours_start,
                                      preference.quiet_hours_end, zone)

    async def defer(self, delivery_id: uuid.UUID, until: datetime) -> None:
        await self._update(delivery_id, lambda d: self._set(
            d, status=DeliveryStatus.DEFERRED.value, next_attempt_at=until, deferred_until=until))

    async def record(self, delivery_id: uuid.UUID, now: datetime, *, provider: str | None,
                     error: str | None) -> None:
        """Apply one attempt's outcome: sent, or retry with backoff, or failed (dead letter)."""
        def apply(delivery: Delivery) -> None:
            delivery.attempts += 1
            if error is None:
                self._set(delivery, status=DeliveryStatus.SENT.value, sent_at=now,
                          provider=provider, last_error=None, deferred_until=None)
                if delivery.sensitive:
                    delivery.body = REDACTED
            elif domain.is_exhausted(delivery.attempts, delivery.max_retries):
                self._set(delivery, status=DeliveryStatus.FAILED.value, failed_at=now,
                          last_error=error[:4000])
            else:
                delay = domain.retry_delay_seconds(delivery.attempts, self.settings.retry_base_seconds,
                                                   self.settings.retry_max_seconds)
                self._set(delivery, status=DeliveryStatus.PENDING.value, last_error=error[:4000],
                          next_attempt_at=now + timedelta(seconds=delay))

        await self._update(delivery_id, apply)

    async def replay(self, delivery_id: uuid.UUID, now: datetime) -> Delivery:
        """Send a dead-lettered delivery again, with a fresh retry budget."""
        delivery = await self.repo.delivery(delivery_id)
        if delivery is None:
            raise not_found("Delivery", delivery_id)
        if delivery.status != DeliveryStatus.FAILED:
            raise Conflict("only failed deliveries can be replayed",
                           f"delivery is '{delivery.status}'")

        def apply(row: Delivery) -> None:
            if row.status != DeliveryStatus.FAILED:
                raise Conflict("delivery was replayed concurrently")
            self._set(row, status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=now,
                      failed_at=None)

        delivery = await self._update(delivery_id, apply)
        wake_after_commit(self.session, self.wake)
        return delivery

    async def _update(self, delivery_id: uuid.UUID, apply: Callable[[Delivery], None]) -> Delivery:
        """Change one delivery and refresh its notification, locking the notification first."""
        notification_id = await self.repo.notification_of(delivery_id)
        if notification_id is None:
            raise not_found("Delivery", delivery_id)
        notification = await self.repo.notification(notification_id, lock=True)
        # locked and populate_existing: current even if the caller loaded it before
        delivery = await self.repo.delivery(delivery_id, lock=True)
        apply(delivery)
        await self.session.flush()
        siblings = await self.repo.deliveries_of(notification.id)
        notification.status = domain.aggregate_status(d.status for d in siblings).value
        notification.channels_sent = sorted(d.channel for d in siblings if d.status == "sent")
        notification.channels_failed = sorted(d.channel for d in siblings if d.status == "failed")
        await self.session.flush()
        return delivery

    @staticmethod
    def _set(delivery: Delivery, **values: Any) -> None:
        for name, value in values.items():
            setattr(delivery, name, value)

    async def page(self, offset: int, limit: int, *, status: str | None = None,
                   channel: str | None = None,
                   user_id: uuid.UUID | None = None) -> tuple[list[Delivery], int]:
        return await self.repo.paginate(self.repo.deliveries_query(status, channel, user_id),
                                       offset=offset, limit=limit)
