"""Request and response bodies of the subscription routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from kilat.platform.schemas import Schema
from kilat.services.payment.escrow.schemas import Card, Code


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
