"""Cash-out rules without I/O: its statuses, the balance check, timing, ledger entries."""

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
    runner_account,
)


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
