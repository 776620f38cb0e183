"""Charge rules without I/O: statuses, what a request must satisfy, refund caps, ledger entries.

Ledger rule. A capture posts one entry: the payer's card gives ``amount``; the payee's balance
gets ``payee_amount``; the platform's fees get the rest (``fee_amount`` and any remainder).
A refund gives the payer back ``r`` out of platform funds; the payee keeps the share already
credited (it may have been cashed out). The platform's fee revenue is reversed in proportion,
``r × (amount − payee_amount) / amount`` computed on the running refunded total (floored), so a
full refund reverses exactly the platform's take; the rest of ``r`` (the payee's share the
platform gives back on the payee's behalf) goes to ``platform:payee_refunds:<currency>``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from kilat.contracts.charges import ChargeRequest, RefundRequest
from kilat.services.payment.ledger.domain import (
    JournalEntry,
    journal,
    payee_account,
    payer_card,
    platform_fees_in,
    platform_refunds_in,
)

MAX_AMOUNT = 2**63 - 1
MAX_PAYMENT_METHOD = 60
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class ChargeStatus(StrEnum):
    REQUESTED = "requested"
    CAPTURED = "captured"
    FAILED = "failed"


class RefundStatus(StrEnum):
    """A refund's life; ``requested`` and ``failed`` read as a charge's do."""

    REQUESTED = "requested"
    REFUNDED = "refunded"
    FAILED = "failed"


@dataclass(frozen=True)
class Split:
    """Who gets what of a charge: ``payee_amount`` to the payee, the rest to the platform."""

    amount: int
    payee_amount: int
    fee_amount: int

    @property
    def platform_amount(self) -> int:
        return self.amount - self.payee_amount

    def platform_share_of(self, refunded: int) -> int:
        """The platform's part of ``refunded`` (of the whole amount), floored."""
        return refunded * self.platform_amount // self.amount


def charge_refusal(request: ChargeRequest) -> str | None:
    """Why a charge request cannot be taken as asked, or None when it can."""
    if not _CURRENCY.match(request.currency):
        return f"invalid currency '{request.currency}'"
    if request.amount > MAX_AMOUNT:
        return "amount is too large"
    if request.payee_amount + request.fee_amount > request.amount:
        return (f"payee_amount {request.payee_amount} + fee_amount {request.fee_amount} "
                f"exceeds amount {request.amount}")
    if request.payee_amount > 0 and request.payee_id is None:
        return "payee_amount without a payee_id"
    method = request.payment_method
    if method is not None and not 0 < len(method) <= MAX_PAYMENT_METHOD:
        return "invalid payment_method"
    return None


def refundable(amount: int, refunded_total: int, refund_reserved: int) -> int:
    """What may still be asked back: the amount less refunds done and refunds under way."""
    return max(0, amount - refunded_total - refund_reserved)


class ChargeTerms(Protocol):
    """What a refund is checked against: a charge as stored."""

    status: str
    source: str
    currency: str
    amount: int
    refunded_total: int
    refund_reserved: int


def refund_refusal(charge: ChargeTerms | None, source: str, request: RefundRequest) -> str | None:
    """Why a refund of ``charge`` (None: unknown here) cannot be made, or None when it can."""
    if charge is None:
        return "unknown charge"
    if charge.source != source:
        return f"the charge belongs to {charge.source}"
    if charge.status == ChargeStatus.FAILED:
        return "the charge was not captured"
    if charge.currency != request.currency:
        return f"the charge is in {charge.currency}"
    left = refundable(charge.amount, charge.refunded_total, charge.refund_reserved)
    if request.amount > left:
        return f"refund of {request.amount} exceeds the {left} {charge.currency} left to refund"
    return None


def capture_entry(charge_id: uuid.UUID, payer_id: uuid.UUID, payee_id: uuid.UUID | None,
                  split: Split, currency: str) -> JournalEntry:
    payee = (payee_account(payee_id, currency), split.payee_amount) if payee_id else ("", 0)
    return journal("charge", f"charge:{charge_id}",
                   (payer_card(payer_id, currency), -split.amount), payee,
                   (platform_fees_in(currency), split.platform_amount))


def refund_entry(refund_id: uuid.UUID, payer_id: uuid.UUID, split: Split, currency: str, *,
                 refunded_before: int, amount: int) -> JournalEntry:
    """Give ``amount`` back to the payer from platform funds (the module's ledger rule)."""
    fees = (split.platform_share_of(refunded_before + amount)
            - split.platform_share_of(refunded_before))
    return journal("charge_refund", f"charge_refund:{refund_id}",
                   (platform_fees_in(currency), -fees),
                   (platform_refunds_in(currency), -(amount - fees)),
                   (payer_card(payer_id, currency), amount))
