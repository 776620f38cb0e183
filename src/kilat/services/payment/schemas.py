"""Request and response bodies of the payment API (snake_case; cash-out keeps its camelCase)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from kilat.platform.schemas import INT32_MAX, Cents, Envelope, Int32, Schema
from kilat.services.payment.domain import DiscountType, normalise_code

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
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


class PromoCreate(Schema):
    code: Code
    description: Text | None = None
    discount_type: DiscountType
    discount_value: Cents = Field(gt=0, description="percent (1..100), or cents if fixed")
    min_amount_cents: Cents = 0
    max_discount_cents: Cents = Field(0, description="0 means no cap")
    max_uses: int = Field(0, ge=0, le=INT32_MAX, description="0 means unlimited")
    valid_from: AwareDatetime
    valid_until: AwareDatetime

    @field_validator("code")
    @classmethod
    def _normalise(cls, code: str) -> str:
        code = normalise_code(code)
        if not code.replace("-", "").replace("_", "").isalnum() or len(code) < 3:
            raise ValueError("code must be 3-40 letters, digits, '-' or '_'")
        return code

    @model_validator(mode="after")
    def _consistent(self) -> PromoCreate:
        if self.discount_type == DiscountType.PERCENTAGE and self.discount_value > 100:
            raise ValueError("a percentage discount must be between 1 and 100")
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class Promo(Schema):
    id: uuid.UUID
    code: str
    description: str | None = None
    discount_type: str
    discount_value: int
    min_amount_cents: int
    max_discount_cents: int
    max_uses: int
    current_uses: int
    valid_from: datetime
    valid_until: datetime
    created_at: datetime


class PromoValidate(Schema):
    code: Code
    amount_cents: Cents = Field(gt=0)


class PromoValidation(Schema):
    valid: bool
    code: str
    discount_cents: int
    message: str | None = None


class Plan(Schema):
    plan: str
    price_cents: int
    duration_days: int
    discount_percent: int
    description: str
    priority_matching: bool


class SubscriptionCreate(Schema):
    plan: Code
    payment_method: Card | None = None


class Subscription(Schema):
    id: uuid.UUID
    user_id: uuid.UUID
    plan: str
    price_cents: int
    discount_percent: int
    currency: str
    status: str
    auto_renew: bool
    started_at: datetime | None = None
    expires_at: datetime | None = None
    cancelled_at: datetime | None = None
    created_at: datetime


class CreditBalance(Schema):
    user_id: uuid.UUID
    balance_cents: int
    currency: str


AccountNumber = Annotated[str, StringConstraints(strip_whitespace=True,
                                                 pattern=r"^\+?[0-9]{6,20}$")]


class DestinationCreate(Schema):
    kind: Literal["bank_account", "duitnow"] = "bank_account"
    bank_name: Name
    account_name: Name
    account_number: AccountNumber
    is_default: bool = False


class DestinationUpdate(Schema):
    bank_name: Name | None = None
    account_name: Name | None = None
    account_number: AccountNumber | None = None
    is_default: bool | None = None
    version: Int32 | None = Field(None,
                                  description="send the version you read to avoid lost updates")


class Destination(Schema):
    id: uuid.UUID
    runner_id: uuid.UUID
    kind: str
    bank_name: str
    account_name: str
    account_last4: str
    is_default: bool
    version: int
    created_at: datetime
    updated_at: datetime


class CashOutCreate(Schema):
    amount_myr_cents: Cents = Field(alias="amountMyrCents", gt=0)
    destination_id: uuid.UUID = Field(alias="destinationId")


class CashOutAccepted(Schema):
    cash_out_id: uuid.UUID = Field(serialization_alias="cashOutId")
    eta_minutes: int = Field(serialization_alias="etaMinutes")
    status: str
    amount_myr_cents: int = Field(serialization_alias="amountMyrCents")
    fee_cents: int = Field(serialization_alias="feeCents")


class CashOutAcceptedEnvelope(Envelope[CashOutAccepted]):
    """The envelope, plus the two top-level fields the original clients read."""

    cash_out_id: uuid.UUID = Field(serialization_alias="cashOutId")
    eta_minutes: int = Field(serialization_alias="etaMinutes")


class CashOut(Schema):
    id: uuid.UUID
    runner_id: uuid.UUID
    destination_id: uuid.UUID
    amount_cents: int
    fee_cents: int
    currency: str
    status: str
    rail_reference: str | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None
    created_at: datetime
    updated_at: datetime


class RunnerBalance(Schema):
    runner_id: uuid.UUID
    available_cents: int
    pending_cash_out_cents: int
    cash_out_fee_cents: int
    currency: str


class PaymentStats(Schema):
    total_revenue_cents: int = Field(description="platform net revenue from the ledger")
    total_payments: int
    by_status: dict[str, int]
    released_volume_cents: int
    held_cents: int


class LedgerReport(Schema):
    balanced: bool
    entries: int
    postings: int
    total_cents: int
    unbalanced_entries: list[str]
    escrow_mismatches: list[dict]
    negative_balances: dict[str, int]
