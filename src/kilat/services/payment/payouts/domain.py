"""Cash-out rules without I/O: its statuses, the balance check, timing, ledger entries.

A balance is one ledger account: a runner's ``runner:<id>`` (pets, in the platform currency), a
driver's or courier's ``payee:<id>:<currency>`` (their share of the verticals' charges)."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from enum import StrEnum

from kilat.services.payment.ledger.domain import (
    BANK_PAYOUTS,
    PAYOUTS_IN_TRANSIT,
    PLATFORM_CASH_OUT_FEES,
    JournalEntry,
    journal,
    payee_account,
    runner_account,
)


def books_of(account: str, currency: str | None) -> str:
    """A platform account in ``currency``'s books: the platform currency's (None) keeps its
    plain name, another currency's is suffixed, so rupiah never add up with ringgit."""
    return account if currency is None else f"{account}:{currency}"


def cash_out_entry(cash_out_id: uuid.UUID, account: str, amount: int, fee: int,
                   currency: str | None = None) -> JournalEntry:
    return journal("cash_out", f"cash_out:{cash_out_id}",
                   (account, -(amount + fee)),
                   (books_of(PAYOUTS_IN_TRANSIT, currency), amount),
                   (books_of(PLATFORM_CASH_OUT_FEES, currency), fee))


def cash_out_settled_entry(cash_out_id: uuid.UUID, amount: int,
                           currency: str | None = None) -> JournalEntry:
    return journal("cash_out_settled", f"cash_out_settled:{cash_out_id}",
                   (books_of(PAYOUTS_IN_TRANSIT, currency), -amount),
                   (books_of(BANK_PAYOUTS, currency), amount))


def cash_out_reversed_entry(cash_out_id: uuid.UUID, account: str, amount: int, fee: int,
                            currency: str | None = None) -> JournalEntry:
    return journal("cash_out_reversed", f"cash_out_reversed:{cash_out_id}",
                   (books_of(PAYOUTS_IN_TRANSIT, currency), -amount),
                   (books_of(PLATFORM_CASH_OUT_FEES, currency), -fee),
                   (account, amount + fee))


CASH_OUT_OVER_BALANCE = "amount exceeds available balance"
PAYEE_ROLES = ("runner", "driver", "courier")


def balance_account(user_id: uuid.UUID, role: str, currency: str, platform_currency: str) -> str:
    """The account a payee's balance is in: a runner's is the pets one (platform currency)."""
    if role == "runner" and currency == platform_currency:
        return runner_account(user_id)
    return payee_account(user_id, currency)


def payee_currency(role: str, asked: str | None, earned: list[str], defaults: dict[str, str],
                   platform_currency: str) -> str:
    """The balance's currency: the one asked for, else the one earned in (the role's when
    several or none), else the role's, else the platform's."""
    default = defaults.get(role, platform_currency)
    if asked is not None:
        return asked
    if role == "runner" or len(earned) != 1:
        return default
    return earned[0]


def cash_out_fee(currency: str, platform_currency: str, platform_fee: int,
                 fees: dict[str, int]) -> int:
    """The fee of a cash-out in ``currency``'s minor units (none unless one is configured)."""
    return platform_fee if currency == platform_currency else fees.get(currency, 0)


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
