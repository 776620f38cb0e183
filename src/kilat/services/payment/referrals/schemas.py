"""The referral credit balance an owner reads."""

from __future__ import annotations

import uuid

from kilat.platform.schemas import Schema


class CreditBalance(Schema):
    user_id: uuid.UUID
    balance_cents: int
    currency: str
