"""Response bodies of the charge routes: every amount in minor units of its ``currency``."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from kilat.platform.schemas import Schema


class ChargeRefund(Schema):
    id: uuid.UUID
    charge_id: uuid.UUID
    amount: int = Field(description="minor units of currency")
    currency: str
    reason: str
    status: str
    failure_reason: str | None = None
    refunded_at: datetime | None = None
    failed_at: datetime | None = None
    created_at: datetime


class Charge(Schema):
    id: uuid.UUID
    source: str = Field(description="the vertical: rides, rail, parcels")
    reference_id: uuid.UUID
    reference: str
    payer_id: uuid.UUID
    payee_id: uuid.UUID | None = None
    amount: int = Field(description="minor units of currency (IDR has none: 1 = one rupiah)")
    payee_amount: int
    fee_amount: int
    currency: str
    payment_method: str | None = None
    description: str
    status: str = Field(description="requested, captured or failed")
    failure_reason: str | None = None
    refunded_total: int
    provider_payment_id: str | None = None
    requested_at: datetime | None = None
    captured_at: datetime | None = None
    failed_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ChargeDetail(Charge):
    refunds: list[ChargeRefund]
