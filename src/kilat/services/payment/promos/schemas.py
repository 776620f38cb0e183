"""Request and response bodies of the promo routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import (
    AwareDatetime,
    Field,
    field_validator,
    model_validator,
)

from kilat.platform.schemas import INT32_MAX, Cents, Schema
from kilat.services.payment.escrow.schemas import Code, Text
from kilat.services.payment.promos.domain import DiscountType, normalise_code


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
