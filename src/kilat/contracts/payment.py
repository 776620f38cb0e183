"""Events the payment service publishes (subject: the payment, subscription, cash-out or referral)."""

from __future__ import annotations

import uuid

from kilat.contracts.base import Contract, Time


class PaymentFact(Contract):
    SUBJECT = "payment_id"

    payment_id: uuid.UUID
    booking_id: uuid.UUID
    booking_number: str | None = None
    owner_id: uuid.UUID | None = None
    runner_id: uuid.UUID | None = None
    currency: str | None = None
    occurred_at: Time | None = None
    amount_cents: int | None = None


class EscrowHeld(PaymentFact):
    TYPE = "payment.escrow_held"

    discount_cents: int | None = None
    credit_applied_cents: int | None = None
    charged_cents: int | None = None
    promo_code: str | None = None
    provider_payment_id: str | None = None
    stripe_payment_id: str | None = None  # the same id, under the name older consumers read


class EscrowReleased(PaymentFact):
    TYPE = "payment.escrow_released"

    runner_payout_cents: int | None = None
    platform_fee_cents: int | None = None


class EscrowRefunded(PaymentFact):
    TYPE = "payment.escrow_refunded"

    charged_cents: int | None = None
    refund_reason: str | None = None


class PaymentFailed(PaymentFact):
    TYPE = "payment.failed"

    reason: str | None = None


class SubscriptionChanged(Contract):
    """``payment.subscription_<change>``: started (active), renewed, cancelled or expired."""

    SUBJECT = "subscription_id"

    subscription_id: uuid.UUID
    user_id: uuid.UUID
    owner_id: uuid.UUID | None = None
    plan: str | None = None
    price_cents: int | None = None
    currency: str | None = None
    status: str | None = None
    expires_at: Time | None = None
    failure_reason: str | None = None
    occurred_at: Time | None = None


class SubscriptionStarted(SubscriptionChanged):
    TYPE = "payment.subscription_started"


class SubscriptionRenewed(SubscriptionChanged):
    TYPE = "payment.subscription_renewed"


class SubscriptionCancelled(SubscriptionChanged):
    TYPE = "payment.subscription_cancelled"


class SubscriptionExpired(SubscriptionChanged):
    TYPE = "payment.subscription_expired"


class CashOutChanged(Contract):
    """``payment.cash_out_<change>``: requested (pending), completed or failed."""

    SUBJECT = "cash_out_id"

    cash_out_id: uuid.UUID
    runner_id: uuid.UUID
    user_id: uuid.UUID | None = None
    amount_cents: int | None = None
    fee_cents: int | None = None
    currency: str | None = None
    status: str | None = None
    rail_reference: str | None = None
    reason: str | None = None
    occurred_at: Time | None = None


class CashOutRequested(CashOutChanged):
    TYPE = "payment.cash_out_requested"


class CashOutCompleted(CashOutChanged):
    TYPE = "payment.cash_out_completed"


class CashOutFailed(CashOutChanged):
    TYPE = "payment.cash_out_failed"


class ReferralCredited(Contract):
    TYPE = "payment.referral_credited"
    SUBJECT = "referral_id"

    referral_id: uuid.UUID | None = None
    referral_code: str | None = None
    referrer_id: uuid.UUID | None = None
    referee_id: uuid.UUID
    user_id: uuid.UUID | None = None
    role: str
    amount_cents: int | None = None
    currency: str | None = None
    occurred_at: Time | None = None
