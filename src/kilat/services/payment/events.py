"""Events the payment service publishes (through the outbox, subject = the aggregate's id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.payment.models import CashOut, Payment, Subscription


def _id(value) -> str | None:
    return str(value) if value is not None else None


def _payment_data(payment: Payment, **extra: Any) -> dict[str, Any]:
    return {
        "payment_id": str(payment.id),
        "booking_id": str(payment.booking_id),
        "booking_number": payment.booking_number,
        "owner_id": str(payment.owner_id),
        "runner_id": _id(payment.runner_id),
        "currency": payment.currency,
        "occurred_at": utcnow().isoformat(),
        **extra,
    }


async def escrow_held(session: AsyncSession, payment: Payment) -> None:
    data = _payment_data(
        payment,
        amount_cents=payment.amount_cents,
        discount_cents=payment.discount_cents,
        credit_applied_cents=payment.credit_applied_cents,
        charged_cents=payment.charged_cents,
        promo_code=payment.promo_code,
        provider_payment_id=payment.provider_payment_id,
        stripe_payment_id=payment.provider_payment_id,
    )
    await record_event(session, "payment.escrow_held", data, subject=str(payment.id))


async def escrow_released(session: AsyncSession, payment: Payment) -> None:
    data = _payment_data(payment, amount_cents=payment.amount_cents,
                         runner_payout_cents=payment.runner_payout_cents,
                         platform_fee_cents=payment.platform_fee_cents)
    await record_event(session, "payment.escrow_released", data, subject=str(payment.id))


async def escrow_refunded(session: AsyncSession, payment: Payment) -> None:
    data = _payment_data(payment, amount_cents=payment.amount_cents,
                         charged_cents=payment.charged_cents,
                         refund_reason=payment.refund_reason)
    await record_event(session, "payment.escrow_refunded", data, subject=str(payment.id))


async def payment_failed(session: AsyncSession, payment: Payment) -> None:
    data = _payment_data(payment, amount_cents=payment.amount_cents,
                         reason=payment.failure_reason)
    await record_event(session, "payment.failed", data, subject=str(payment.id))


async def subscription_changed(session: AsyncSession, subscription: Subscription, *,
                               renewed: bool = False) -> None:
    """``payment.subscription_<status>``: started (active), renewed, cancelled or expired."""
    name = "renewed" if renewed else (
        "started" if subscription.status == "active" else subscription.status)
    data = {
        "subscription_id": str(subscription.id),
        "user_id": str(subscription.user_id),
        "owner_id": str(subscription.user_id),
        "plan": subscription.plan,
        "price_cents": subscription.price_cents,
        "currency": subscription.currency,
        "status": subscription.status,
        "expires_at": subscription.expires_at.isoformat() if subscription.expires_at else None,
        "failure_reason": subscription.failure_reason,
        "occurred_at": utcnow().isoformat(),
    }
    await record_event(session, f"payment.subscription_{name}", data, subject=str(subscription.id))


async def cash_out_changed(session: AsyncSession, cash_out: CashOut) -> None:
    """``payment.cash_out_<status>``: requested (pending), completed or failed."""
    name = "requested" if cash_out.status == "pending" else cash_out.status
    data = {
        "cash_out_id": str(cash_out.id),
        "runner_id": str(cash_out.runner_id),
        "user_id": str(cash_out.runner_id),
        "amount_cents": cash_out.amount_cents,
        "fee_cents": cash_out.fee_cents,
        "currency": cash_out.currency,
        "status": cash_out.status,
        "rail_reference": cash_out.rail_reference,
        "reason": cash_out.failure_reason,
        "occurred_at": utcnow().isoformat(),
    }
    await record_event(session, f"payment.cash_out_{name}", data, subject=str(cash_out.id))


async def referral_credited(session: AsyncSession, *, referral, user_id, role: str,
                            amount_cents: int, currency: str) -> None:
    data = {
        "referral_id": str(referral.id),
        "referral_code": referral.code,
        "referrer_id": str(referral.referrer_id),
        "referee_id": str(referral.referee_id),
        "user_id": str(user_id),
        "role": role,
        "amount_cents": amount_cents,
        "currency": currency,
        "occurred_at": utcnow().isoformat(),
    }
    await record_event(session, "payment.referral_credited", data, subject=str(referral.id))
