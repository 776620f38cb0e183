"""Events of escrow (kilat.contracts.payment; subject: the payment's id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import payment as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.payment.models import Payment


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
