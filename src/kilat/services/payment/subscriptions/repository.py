"""Queries of subscriptions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select

from kilat.platform.repository import Repository
from kilat.services.payment.models import (
    Subscription,
)
from kilat.services.payment.subscriptions.domain import SubscriptionStatus


class SubscriptionRepository(Repository):
    """Queries of subscriptions."""

    async def current_subscription(self, user_id: uuid.UUID) -> Subscription | None:
        """The pending or active subscription that blocks another one."""
        query = select(Subscription).where(
            Subscription.user_id == user_id,
            Subscription.status.in_([SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE]))
        return await self.session.scalar(query)

    async def active_subscription(self, user_id: uuid.UUID, now: datetime) -> Subscription | None:
        query = select(Subscription).where(Subscription.user_id == user_id,
                                           Subscription.status == SubscriptionStatus.ACTIVE,
                                           Subscription.expires_at > now)
        return await self.session.scalar(query)

    async def subscriptions_to_expire(self, now: datetime) -> list[Subscription]:
        query = select(Subscription).where(Subscription.status == SubscriptionStatus.ACTIVE,
                                           Subscription.auto_renew.is_(False),
                                           Subscription.expires_at <= now)
        return list(await self.session.scalars(query))

    async def subscriptions_to_renew(self, before: datetime) -> list[uuid.UUID]:
        query = select(Subscription.id).where(Subscription.status == SubscriptionStatus.ACTIVE,
                                              Subscription.auto_renew.is_(True),
                                              Subscription.expires_at <= before)
        return list(await self.session.scalars(query))
