"""Request and response bodies of the payment routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    EmailStr,
    Field,
    StringConstraints,
)

from kilat.platform.schemas import Cents, Schema

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Card = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                            pattern=r"^[A-Za-z]{3}$")]


class PaymentInitiate(Schema):
    booking_id: uuid.UUID
    amount_cents: Cents | None = Field(None, gt=0, description="if sent, must be the booking price")
    currency: Currency | None = None
    customer_email: EmailStr | None = None
    promo_code: Code | None = None
    payment_method: Card | None = Field(None, description="card token; pm_card_visa by default")


class Payment(Schema):
    id: uuid.UUID
    booking_id: uuid.UUID
    booking_number: str | None = None
    owner_id: uuid.UUID
    runner_id: uuid.UUID | None = None
    escrow_status: str
    amount_cents: int
    discount_cents: int
    subscription_discount_cents: int
    promo_discount_cents: int
    promo_code: str | None = None
    credit_applied_cents: int
    charged_cents: int
    platform_fee_cents: int
    runner_payout_cents: int
    currency: str
    payment_method: str | None = None
    provider_payment_id: str | None = None
    stripe_payment_id: str | None = Field(None, validation_alias="provider_payment_id")
    escrow_held_at: datetime | None = None
    authorization_expires_at: datetime | None = None
    escrow_released_at: datetime | None = None
    refunded_at: datetime | None = None
    refund_reason: str | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None
    pending_action: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


class RefundRequest(Schema):
    reason: Text


class PaymentStats(Schema):
    total_revenue_cents: int = Field(description="platform net revenue from the ledger")
    total_payments: int
    by_status: dict[str, int]
    released_volume_cents: int
    held_cents: int
