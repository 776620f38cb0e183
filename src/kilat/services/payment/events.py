"""Events the payment service publishes (kilat.contracts.payment; subject: the aggregate's id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import payment as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.payment.models import CashOut, Payment, Subscription

SUBSCRIPTION_CHANGES = {"started": contracts.SubscriptionStarted,
                        "renewed": contracts.SubscriptionRenewed,
                        "cancelled": contracts.SubscriptionCancelled,
                        "expired": contracts.SubscriptionExpired}
CASH_OUT_CHANGES = {"requested": contracts.CashOutRequested,
                    "completed": contracts.CashOutCompleted,
                    "failed": contracts.CashOutFailed}


def _payment_data(payment: Payment) -> dict[str, Any]:
    return {"payment_id": payment.id, "booking_id": payment.booking_id,
            "booking_number": payment.booking_number, "owner_id": payment.owner_id,
            "runner_id": payment.runner_id, "currency": payment.currency,
            "occurred_at": utcnow(), "amount_cents": payment.amount_cents}


async def escrow_held(session: AsyncSession, payment: Payment) -> None:
    await record_event(session, contracts.EscrowHeld(
        **_payment_data(payment), discount_cents=payment.discount_cents,
        credit_applied_cents=payment.credit_applied_cents, charged_cents=payment.charged_cents,
        promo_code=payment.promo_code, provider_payment_id=payment.provider_payment_id,
        stripe_payment_id=payment.provider_payment_id))


async def escrow_released(session: AsyncSession, payment: Payment) -> None:
    await record_event(session, contracts.EscrowReleased(
        **_payment_data(payment), runner_payout_cents=payment.runner_payout_cents,
        platform_fee_cents=payment.platform_fee_cents))


async def escrow_refunded(session: AsyncSession, payment: Payment) -> None:
    await record_event(session, contracts.EscrowRefunded(
        **_payment_data(payment), charged_cents=payment.charged_cents,
        refund_reason=payment.refund_reason))


async def payment_failed(session: AsyncSession, payment: Payment) -> None:
    await record_event(session, contracts.PaymentFailed(**_payment_data(payment),
                                                        reason=payment.failure_reason))


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


async def cash_out_changed(session: AsyncSession, cash_out: CashOut) -> None:
    """``payment.cash_out_<change>``: requested (pending), completed or failed."""
    change = "requested" if cash_out.status == "pending" else cash_out.status
    await record_event(session, CASH_OUT_CHANGES[change](
        cash_out_id=cash_out.id, runner_id=cash_out.runner_id, user_id=cash_out.runner_id,
        amount_cents=cash_out.amount_cents, fee_cents=cash_out.fee_cents,
        currency=cash_out.currency, status=cash_out.status,
        rail_reference=cash_out.rail_reference, reason=cash_out.failure_reason,
        occurred_at=utcnow()))


async def referral_credited(session: AsyncSession, *, referral, user_id, role: str,
                            amount_cents: int, currency: str) -> None:
    await record_event(session, contracts.ReferralCredited(
        referral_id=referral.id, referral_code=referral.code, referrer_id=referral.referrer_id,
        referee_id=referral.referee_id, user_id=user_id, role=role, amount_cents=amount_cents,
        currency=currency, occurred_at=utcnow()))
