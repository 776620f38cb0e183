"""Money rules of the payment service: pure functions on integer sen, no I/O."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum


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


def percent_of(amount_cents: int, percent: Decimal | int) -> int:
    """floor(amount × percent / 100), exact for fractional percentages."""
    return int((Decimal(amount_cents) * Decimal(percent) / 100).to_integral_value(ROUND_FLOOR))


@dataclass(frozen=True)
class FeeSplit:
    platform_fee_cents: int
    runner_payout_cents: int


def split_fee(amount_cents: int, fee_percent: Decimal | int) -> FeeSplit:
    fee = percent_of(amount_cents, fee_percent)
    return FeeSplit(fee, amount_cents - fee)


# --- promo codes -------------------------------------------------------------------------------


class DiscountType(StrEnum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


PROMO_NOT_FOUND = "promo code not found"
PROMO_UNAVAILABLE = "promo code is expired or fully used"
PROMO_ALREADY_USED = "you have already used this promo code"


def normalise_code(code: str) -> str:
    return code.strip().upper()


@dataclass(frozen=True)
class PromoTerms:
    discount_type: str
    discount_value: int
    min_amount_cents: int
    max_discount_cents: int
    max_uses: int
    current_uses: int
    valid_from: datetime
    valid_until: datetime

    def is_live(self, now: datetime) -> bool:
        in_window = self.valid_from < now < self.valid_until
        return in_window and (self.max_uses == 0 or self.current_uses < self.max_uses)

    def discount_for(self, amount_cents: int) -> int:
        if self.discount_type == DiscountType.PERCENTAGE:
            discount = percent_of(amount_cents, self.discount_value)
        else:
            discount = self.discount_value
        if self.max_discount_cents > 0:
            discount = min(discount, self.max_discount_cents)
        return min(discount, amount_cents)


@dataclass(frozen=True)
class PromoVerdict:
    valid: bool
    discount_cents: int = 0
    message: str | None = None
    exhausted: bool = False


def evaluate_promo(
    terms: PromoTerms | None, amount_cents: int, now: datetime, *, already_used: bool
) -> PromoVerdict:
    """The §3.5 checks in the order a user meets them; a valid verdict carries the discount."""
    if terms is None:
        return PromoVerdict(False, message=PROMO_NOT_FOUND)
    if not terms.is_live(now):
        return PromoVerdict(False, message=PROMO_UNAVAILABLE, exhausted=True)
    if already_used:
        return PromoVerdict(False, message=PROMO_ALREADY_USED)
    if amount_cents < terms.min_amount_cents:
        minimum = f"minimum amount of {terms.min_amount_cents} cents required"
        return PromoVerdict(False, message=minimum)
    return PromoVerdict(True, terms.discount_for(amount_cents))


# --- subscriptions -----------------------------------------------------------------------------


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


# --- the price an owner pays ---------------------------------------------------------------------


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


# --- double-entry ledger -------------------------------------------------------------------------

PLATFORM_FEES = "platform:fees"
PLATFORM_PROMOTIONS = "platform:promotions"
PLATFORM_SUBSCRIPTIONS = "platform:subscriptions"
PLATFORM_CASH_OUT_FEES = "platform:cash_out_fees"
PAYOUTS_IN_TRANSIT = "payouts:in_transit"
BANK_PAYOUTS = "bank:payouts"
PLATFORM_ACCOUNTS = (PLATFORM_FEES, PLATFORM_PROMOTIONS, PLATFORM_SUBSCRIPTIONS,
                     PLATFORM_CASH_OUT_FEES)


def owner_card(owner_id: uuid.UUID) -> str:
    """Money that came in from (negative) or went back to (positive) an owner's card."""
    return f"card:{owner_id}"


def escrow_account(payment_id: uuid.UUID) -> str:
    return f"escrow:{payment_id}"


def runner_account(runner_id: uuid.UUID) -> str:
    return f"runner:{runner_id}"


def credit_account(user_id: uuid.UUID) -> str:
    return f"credit:{user_id}"


class UnbalancedEntry(ValueError):
    pass


@dataclass(frozen=True)
class Posting:
    account: str
    amount_cents: int


@dataclass(frozen=True)
class JournalEntry:
    """One money movement; its postings always sum to zero."""

    kind: str
    reference: str
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        total = sum(p.amount_cents for p in self.postings)
        if total != 0:
            raise UnbalancedEntry(f"entry {self.reference} is off by {total}")


def journal(kind: str, reference: str, *postings: tuple[str, int]) -> JournalEntry:
    """An entry from (account, amount) pairs, leaving out zero amounts."""
    kept = tuple(Posting(account, amount) for account, amount in postings if amount != 0)
    return JournalEntry(kind, reference, kept)


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


def referral_credit_entry(referral_id: uuid.UUID, user_id: uuid.UUID, role: str,
                          amount: int) -> JournalEntry:
    return journal("referral_credit", f"referral:{referral_id}:{role}",
                   (PLATFORM_PROMOTIONS, -amount), (credit_account(user_id), amount))


def subscription_entry(subscription_id: uuid.UUID, user_id: uuid.UUID, price: int) -> JournalEntry:
    return journal("subscription", f"subscription:{subscription_id}",
                   (owner_card(user_id), -price), (PLATFORM_SUBSCRIPTIONS, price))


def subscription_renewal_entry(subscription_id: uuid.UUID, user_id: uuid.UUID, price: int,
                               period_start: datetime) -> JournalEntry:
    return journal("subscription",
                   f"subscription:{subscription_id}:renewal:{period_start.isoformat()}",
                   (owner_card(user_id), -price), (PLATFORM_SUBSCRIPTIONS, price))


def cash_out_entry(cash_out_id: uuid.UUID, runner_id: uuid.UUID, amount: int,
                   fee: int) -> JournalEntry:
    return journal("cash_out", f"cash_out:{cash_out_id}",
                   (runner_account(runner_id), -(amount + fee)),
                   (PAYOUTS_IN_TRANSIT, amount), (PLATFORM_CASH_OUT_FEES, fee))


def cash_out_settled_entry(cash_out_id: uuid.UUID, amount: int) -> JournalEntry:
    return journal("cash_out_settled", f"cash_out_settled:{cash_out_id}",
                   (PAYOUTS_IN_TRANSIT, -amount), (BANK_PAYOUTS, amount))


def cash_out_reversed_entry(cash_out_id: uuid.UUID, runner_id: uuid.UUID, amount: int,
                            fee: int) -> JournalEntry:
    return journal("cash_out_reversed", f"cash_out_reversed:{cash_out_id}",
                   (PAYOUTS_IN_TRANSIT, -amount), (PLATFORM_CASH_OUT_FEES, -fee),
                   (runner_account(runner_id), amount + fee))


def balance_of(account: str, entries: list[JournalEntry]) -> int:
    return sum(p.amount_cents for e in entries for p in e.postings if p.account == account)


# --- cash-out ------------------------------------------------------------------------------------

CASH_OUT_OVER_BALANCE = "amount exceeds available balance"


class CashOutStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


def can_cash_out(amount_cents: int, fee_cents: int, balance_cents: int) -> bool:
    return amount_cents > 0 and amount_cents + fee_cents <= balance_cents


def cash_out_eta_minutes(rail_delay_seconds: float) -> int:
    return max(1, math.ceil(rail_delay_seconds / 60))


def cash_out_deadline(rail_delay_seconds: float) -> timedelta:
    """How long a transfer may stay unsettled before the cash-out is failed and reversed."""
    return timedelta(seconds=max(2 * rail_delay_seconds, 10))


def retry_delay(attempt: int, base_seconds: float, cap_seconds: float = 300) -> timedelta:
    return timedelta(seconds=min(base_seconds * 2 ** max(attempt - 1, 0), cap_seconds))
