"""Subscription rules without I/O: the plans, their discount, their ledger entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kilat.services.payment.ledger.domain import (
    PLATFORM_SUBSCRIPTIONS,
    JournalEntry,
    journal,
    owner_card,
    percent_of,
)


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


@dataclass(frozen=True)
class Plan:
    plan: str
    price_cents: int
    duration_days: int
    discount_percent: int
    description: str
    priority_matching: bool = False

    def window(self, start: datetime) -> tuple[datetime, datetime]:
        return start, start + timedelta(days=self.duration_days)


PLANS: dict[str, Plan] = {
    "basic": Plan("basic", 1990, 30, 5, "5% off every booking, valid 30 days"),
    "premium": Plan("premium", 4990, 30, 15,
                    "15% off every booking + priority runner matching, valid 30 days", True),
}


def subscription_discount(amount_cents: int, discount_percent: int) -> int:
    return percent_of(amount_cents, discount_percent)


def subscription_entry(subscription_id: uuid.UUID, user_id: uuid.UUID, price: int) -> JournalEntry:
    return journal("subscription", f"subscription:{subscription_id}",
                   (owner_card(user_id), -price), (PLATFORM_SUBSCRIPTIONS, price))


def subscription_renewal_entry(subscription_id: uuid.UUID, user_id: uuid.UUID, price: int,
                               period_start: datetime) -> JournalEntry:
    return journal("subscription",
                   f"subscription:{subscription_id}:renewal:{period_start.isoformat()}",
                   (owner_card(user_id), -price), (PLATFORM_SUBSCRIPTIONS, price))
