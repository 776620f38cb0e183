"""Escrow rules without I/O: its state machine, the fee split, the quote, its ledger entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from kilat.services.payment.ledger.domain import (
    PLATFORM_FEES,
    PLATFORM_PROMOTIONS,
    JournalEntry,
    credit_account,
    escrow_account,
    journal,
    owner_card,
    percent_of,
    runner_account,
)
from kilat.services.payment.subscriptions.domain import subscription_discount


class EscrowStatus(StrEnum):
    PENDING = "pending"
    HELD = "held"
    RELEASED = "released"
    REFUNDED = "refunded"
    FAILED = "failed"


class EscrowAction(StrEnum):
    RELEASE = "release"
    REFUND = "refund"


PAYABLE_BOOKING_STATUSES = frozenset({"requested", "accepted"})
_ESCROW_TRANSITIONS = {
    EscrowStatus.PENDING: {EscrowStatus.HELD, EscrowStatus.FAILED},
    EscrowStatus.HELD: {EscrowStatus.RELEASED, EscrowStatus.REFUNDED, EscrowStatus.FAILED},
    # a declined payment may be tried again on the same row
    EscrowStatus.FAILED: {EscrowStatus.PENDING},
}


class IllegalTransition(ValueError):
    pass


def check_transition(current: str, target: str) -> None:
    if EscrowStatus(target) not in _ESCROW_TRANSITIONS.get(EscrowStatus(current), set()):
        raise IllegalTransition(f"cannot transition from '{current}' to '{target}'")


@dataclass(frozen=True)
class FeeSplit:
    platform_fee_cents: int
    runner_payout_cents: int


def split_fee(amount_cents: int, fee_percent: Decimal | int) -> FeeSplit:
    fee = percent_of(amount_cents, fee_percent)
    return FeeSplit(fee, amount_cents - fee)


@dataclass(frozen=True)
class Quote:
    """What a payment holds: the booking price in escrow, funded by card, credit and discounts.

    The runner's payout is computed on the booking price; discounts and credits are the
    platform's cost, so an owner's promo never shrinks what the runner earns.
    """

    amount_cents: int
    subscription_discount_cents: int
    promo_discount_cents: int
    credit_applied_cents: int
    platform_fee_cents: int
    runner_payout_cents: int

    @property
    def discount_cents(self) -> int:
        return self.subscription_discount_cents + self.promo_discount_cents

    @property
    def charged_cents(self) -> int:
        return self.amount_cents - self.discount_cents - self.credit_applied_cents


def quote_payment(
    amount_cents: int,
    *,
    fee_percent: Decimal | int,
    subscription_percent: int = 0,
    promo_discount_cents: int = 0,
    credit_available_cents: int = 0,
) -> Quote:
    subscription = subscription_discount(amount_cents, subscription_percent)
    promo = min(promo_discount_cents, amount_cents - subscription)
    credit = max(0, min(credit_available_cents, amount_cents - subscription - promo))
    split = split_fee(amount_cents, fee_percent)
    return Quote(amount_cents, subscription, promo, credit, split.platform_fee_cents,
                 split.runner_payout_cents)


def credit_reserved_entry(payment_id: uuid.UUID, owner_id: uuid.UUID, credit: int,
                          attempt: int) -> JournalEntry:
    return journal("credit_reserved", f"credit_reserved:{payment_id}:{attempt}",
                   (credit_account(owner_id), -credit), (escrow_account(payment_id), credit))


def hold_entry(payment_id: uuid.UUID, owner_id: uuid.UUID, quote: Quote,
               attempt: int) -> JournalEntry:
    return journal(
        "hold", f"hold:{payment_id}:{attempt}",
        (owner_card(owner_id), -quote.charged_cents),
        (PLATFORM_PROMOTIONS, -quote.discount_cents),
        (escrow_account(payment_id), quote.charged_cents + quote.discount_cents),
    )


def release_entry(payment_id: uuid.UUID, runner_id: uuid.UUID, quote: Quote) -> JournalEntry:
    return journal(
        "release", f"release:{payment_id}",
        (escrow_account(payment_id), -quote.amount_cents),
        (runner_account(runner_id), quote.runner_payout_cents),
        (PLATFORM_FEES, quote.platform_fee_cents),
    )


def return_entry(kind: str, payment_id: uuid.UUID, owner_id: uuid.UUID, *, charged: int,
                 discount: int, credit: int, attempt: int) -> JournalEntry:
    """Give back what escrow holds: card money, the platform's discount and the owner's credit."""
    return journal(
        kind, f"{kind}:{payment_id}:{attempt}",
        (escrow_account(payment_id), -(charged + discount + credit)),
        (owner_card(owner_id), charged),
        (PLATFORM_PROMOTIONS, discount),
        (credit_account(owner_id), credit),
    )


def retry_delay(attempt: int, base_seconds: float, cap_seconds: float = 300) -> timedelta:
    return timedelta(seconds=min(base_seconds * 2 ** max(attempt - 1, 0), cap_seconds))
