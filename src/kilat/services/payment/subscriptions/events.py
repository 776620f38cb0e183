"""Events of subscriptions (kilat.contracts.payment; subject: the subscription's id)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import payment as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.payment.models import Subscription

SUBSCRIPTION_CHANGES = {"started": contracts.SubscriptionStarted,
                        "renewed": contracts.SubscriptionRenewed,
                        "cancelled": contracts.SubscriptionCancelled,
                        "expired": contracts.SubscriptionExpired}


async def subscription_changed(session: AsyncSession, subscription: Subscription, *,
                               renewed: bool = False) -> None:
    """``payment.subscription_<change>``: started (active), renewed, cancelled or expired."""
    change = "renewed" if renewed else (
        "started" if subscription.status == "active" else subscription.status)
    await record_event(session, SUBSCRIPTION_CHANGES[change](
        subscription_id=subscription.id, user_id=subscription.user_id,
        owner_id=subscription.user_id, plan=subscription.plan,
        price_cents=subscription.price_cents, currency=subscription.currency,
        status=subscription.status, expires_at=subscription.expires_at,
        failure_reason=subscription.failure_reason, occurred_at=utcnow()))
