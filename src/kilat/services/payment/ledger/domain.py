"""Ledger rules without I/O: amounts in integer sen, accounts, balanced journal entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


def percent_of(amount_cents: int, percent: Decimal | int) -> int:
    """floor(amount × percent / 100), exact for fractional percentages."""
    return int((Decimal(amount_cents) * Decimal(percent) / 100).to_integral_value(ROUND_FLOOR))


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


# The verticals' accounts carry their currency: one ledger keeps rupiah, taka and ringgit apart.


def payer_card(payer_id: uuid.UUID, currency: str) -> str:
    """Money a vertical's payer paid by card (negative) or got back (positive)."""
    return f"card:{payer_id}:{currency}"


def payee_account(payee_id: uuid.UUID, currency: str) -> str:
    """A driver's or courier's balance: their share of charges, less cash-outs."""
    return f"payee:{payee_id}:{currency}"


def platform_fees_in(currency: str) -> str:
    """The platform's revenue from the verticals' charges in ``currency``."""
    return f"platform:fees:{currency}"


def platform_refunds_in(currency: str) -> str:
    """The platform's cost of giving back a payee's share the payee keeps."""
    return f"platform:payee_refunds:{currency}"


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


def balance_of(account: str, entries: list[JournalEntry]) -> int:
    return sum(p.amount_cents for e in entries for p in e.postings if p.account == account)
