"""Subscriptions (§3.6): plans, subscribe (charged through the provider), cancel, expiry."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Conflict, NotFound, ServiceUnavailable
from kilat.platform.models import utcnow
from kilat.services.payment.adapters.provider import (
    CardDeclined,
    IntentStateError,
    PaymentIntent,
    ProviderError,
)
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow.service import PaymentDeclined
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.models import Subscription
from kilat.services.payment.subscriptions import events
from kilat.services.payment.subscriptions.domain import (
    PLANS,
    Plan,
    SubscriptionStatus,
    subscription_entry,
    subscription_renewal_entry,
)
from kilat.services.payment.subscriptions.repository import SubscriptionRepository
from kilat.services.payment.subscriptions.schemas import SubscriptionCreate

log = structlog.get_logger(__name__)

NO_ACTIVE = "no active subscription"
# the processor unreachable at renewal: keep trying this long after the period ended, then expire
RENEWAL_GRACE = timedelta(days=3)


def plan_named(name: str) -> Plan:
    plan = PLANS.get(name.strip().lower())
    if plan is None:
        raise BadRequest(f"invalid plan '{name}'", f"choose one of: {', '.join(PLANS)}")
    return plan


class Subscriptions:
    def __init__(self, ctx: PaymentContext) -> None:
        self.ctx = ctx
        self.database = ctx.database

    async def subscribe(self, user: Principal, body: SubscriptionCreate) -> Subscription:
        """Charge the plan price, then start the subscription; refund the charge if that fails."""
        plan = plan_named(body.plan)
        subscription_id = await self._reserve(user.user_id, plan, body.payment_method)
        key = f"subscription:{subscription_id}"
        try:
            intent = await self.ctx.provider.charge(
                amount_cents=plan.price_cents, currency=self.ctx.settings.currency,
                payment_method=body.payment_method, idempotency_key=key,
                reference=str(subscription_id))
        except CardDeclined as exc:
            await self._fail(subscription_id, f"card declined: {exc.decline_code}")
            raise PaymentDeclined("payment declined", exc.decline_code) from exc
        except ProviderError as exc:
            await self._refund_quietly(await self._find_quietly(key), subscription_id)
            await self._fail(subscription_id, f"payment provider error: {exc}")
            raise ServiceUnavailable("payment provider unavailable", "retry shortly") from exc
        try:
            return await self._start(subscription_id, plan, intent)
        except Exception:
            await self._refund_quietly(intent, subscription_id)
            await self._fail(subscription_id, "subscription could not be recorded")
            raise

    async def renew(self, subscription_id: uuid.UUID, now: datetime) -> bool:
        """Charge the next period of an auto-renewing subscription whose period has ended (or
        ends within the sweep's lead) and extend it from the old end; a declined card ends it.

        The charge's idempotency key names the period, so two instances (or a retry after a
        crash between charge and commit) charge once and extend once.
        """
        async with self.database.session(write=False) as session:
            subscription = await SubscriptionRepository(session).load(Subscription, subscription_id)
        if (subscription is None or subscription.status != SubscriptionStatus.ACTIVE
                or not subscription.auto_renew):
            return False
        period_end = subscription.expires_at
        plan = PLANS.get(subscription.plan)
        if plan is None:
            await self._end(subscription_id, period_end, "plan no longer offered", now)
            return False
        try:
            intent = await self.ctx.provider.charge(
                amount_cents=plan.price_cents, currency=subscription.currency,
                payment_method=subscription.payment_method,
                idempotency_key=f"subscription_renewal:{subscription_id}:{period_end.isoformat()}",
                reference=str(subscription_id))
        except CardDeclined as exc:
            await self._end(subscription_id, period_end, f"renewal declined: {exc.decline_code}",
                            now)
            return False
        except ProviderError as exc:
            if now - period_end > RENEWAL_GRACE:
                await self._end(subscription_id, period_end,
                                f"renewal failed: payment provider unavailable ({exc})", now)
            else:
                log.warning("subscription renewal postponed", subscription_id=str(subscription_id),
                            error=str(exc))
            return False
        return await self._extend(subscription_id, period_end, plan, intent)

    async def _extend(self, subscription_id: uuid.UUID, period_end: datetime, plan: Plan,
                      intent: PaymentIntent) -> bool:
        async with self.database.session() as session:
            repo = SubscriptionRepository(session)
            subscription = await repo.load(Subscription, subscription_id, for_update=True)
            if subscription.expires_at != period_end:
                return False  # extended meanwhile, by this same charge (same idempotency key)
            if subscription.status != SubscriptionStatus.ACTIVE:
                ended = True  # cancelled or replaced while the charge ran
            else:
                ended = False
                subscription.started_at, subscription.expires_at = plan.window(period_end)
                subscription.price_cents = plan.price_cents
                subscription.discount_percent = plan.discount_percent
                subscription.provider_payment_id = intent.id
                await ledger.post(repo.session, subscription_renewal_entry(
                    subscription.id, subscription.user_id, plan.price_cents, period_end),
                    subscription.currency)
                await session.flush()
                await events.subscription_changed(session, subscription, renewed=True)
        if ended:
            await self._refund_quietly(intent, subscription_id)
        return not ended

    async def _end(self, subscription_id: uuid.UUID, period_end: datetime, reason: str,
                   now: datetime) -> None:
        """No renewal: expire now if the period is over, else stop renewing and let the expiry
        job end it when the paid period is over."""
        async with self.database.session() as session:
            subscription = await SubscriptionRepository(session).load(Subscription, subscription_id,
                                                         for_update=True)
            if (subscription.status != SubscriptionStatus.ACTIVE
                    or subscription.expires_at != period_end):
                return
            subscription.failure_reason = reason
            if period_end > now:
                subscription.auto_renew = False
                return
            await expire(session, subscription)

    async def _reserve(self, user_id: uuid.UUID, plan: Plan, card: str | None) -> uuid.UUID:
        try:
            async with self.database.session() as session:
                repo = SubscriptionRepository(session)
                await _refuse_second(session, repo, user_id)
                subscription = Subscription(
                    user_id=user_id, plan=plan.plan, price_cents=plan.price_cents,
                    discount_percent=plan.discount_percent, currency=self.ctx.settings.currency,
                    status=SubscriptionStatus.PENDING, auto_renew=True, payment_method=card)
                session.add(subscription)
                await session.flush()
                return subscription.id
        except IntegrityError as exc:
            raise Conflict("you already have an active subscription") from exc

    async def _start(self, subscription_id: uuid.UUID, plan: Plan,
                     intent: PaymentIntent) -> Subscription:
        async with self.database.session() as session:
            repo = SubscriptionRepository(session)
            subscription = await repo.load(Subscription, subscription_id, for_update=True)
            subscription.status = SubscriptionStatus.ACTIVE
            subscription.started_at, subscription.expires_at = plan.window(utcnow())
            subscription.provider_payment_id = intent.id
            await ledger.post(repo.session, subscription_entry(subscription.id, subscription.user_id,
                                                       subscription.price_cents),
                              subscription.currency)
            await session.flush()
            await events.subscription_changed(session, subscription)
            return subscription

    async def _fail(self, subscription_id: uuid.UUID, reason: str) -> None:
        async with self.database.session() as session:
            subscription = await SubscriptionRepository(session).load(Subscription, subscription_id)
            subscription.status = SubscriptionStatus.FAILED
            subscription.failure_reason = reason

    async def _find_quietly(self, key: str) -> PaymentIntent | None:
        try:
            return await self.ctx.provider.find(key)
        except ProviderError:
            return None

    async def _refund_quietly(self, intent: PaymentIntent | None,
                              subscription_id: uuid.UUID) -> None:
        if intent is None:
            return
        try:
            await self.ctx.provider.refund(intent.id,
                                           idempotency_key=f"subscription_refund:{subscription_id}")
        except (ProviderError, IntentStateError) as exc:
            log.error("subscription charge not refunded", intent=intent.id, error=str(exc))


async def _refuse_second(session: AsyncSession, repo: SubscriptionRepository,
                         user_id: uuid.UUID) -> None:
    current = await repo.current_subscription(user_id)
    if current is None:
        return
    if current.status == SubscriptionStatus.ACTIVE and current.expires_at <= utcnow():
        await expire(session, current)
        return
    if current.status == SubscriptionStatus.PENDING:
        raise Conflict("a subscription payment is already in progress")
    raise Conflict(f"you already have an active {current.plan} subscription")


async def active_subscription(session: AsyncSession, user_id: uuid.UUID) -> Subscription:
    subscription = await SubscriptionRepository(session).active_subscription(user_id, utcnow())
    if subscription is None:
        raise NotFound(NO_ACTIVE)
    return subscription


async def cancel_subscription(session: AsyncSession, user_id: uuid.UUID) -> Subscription:
    """Stop the subscription now: no more discount, no renewal (the paid period is not refunded)."""
    subscription = await active_subscription(session, user_id)
    subscription.status = SubscriptionStatus.CANCELLED
    subscription.auto_renew = False
    subscription.cancelled_at = utcnow()
    await session.flush()
    await events.subscription_changed(session, subscription)
    return subscription


async def expire(session: AsyncSession, subscription: Subscription) -> None:
    subscription.status = SubscriptionStatus.EXPIRED
    subscription.auto_renew = False
    await session.flush()
    await events.subscription_changed(session, subscription)


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """The expiry job: active subscriptions past their end that do not renew become ``expired``
    (an auto-renewing one ends only when its renewal fails, see ``Subscriptions.renew``)."""
    due = await SubscriptionRepository(session).subscriptions_to_expire(now)
    for subscription in due:
        await expire(session, subscription)
    return len(due)


async def renew_due(ctx: PaymentContext, now: datetime, lead: timedelta = timedelta(0)) -> int:
    """The renewal job: charge every auto-renewing subscription ending before ``now + lead``
    (the lead lets a sweep renew before the end, so the discount never lapses)."""
    async with ctx.database.session(write=False) as session:
        due = await SubscriptionRepository(session).subscriptions_to_renew(now + lead)
    subscriptions = Subscriptions(ctx)
    renewed = 0
    for subscription_id in due:
        renewed += await subscriptions.renew(subscription_id, now)
    return renewed
