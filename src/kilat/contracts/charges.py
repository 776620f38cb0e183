"""Money the verticals ask the payment service to move, and what it answers.

A vertical never charges a card itself. In the same transaction as its own state change it records
a ``<vertical>.charge_requested`` (or ``.refund_requested``) event; the payment service captures
through its provider, posts the ledger (the payer's charge, the platform's fee, the payee's
balance) and answers with ``payment.charge_captured`` / ``payment.charge_failed`` /
``payment.charge_refunded``, which the vertical consumes to move on. Ids are chosen by the
vertical and deterministic (``uuid5`` of what is paid for and the attempt), so a redelivered or
repeated request is the same charge and is never taken twice.

Amounts are integer minor units of ``currency`` (IDR has none: 1 = one rupiah; BDT poisha).
"""

from __future__ import annotations

import uuid

from pydantic import Field

from kilat.contracts.base import Contract, Time


class ChargeRequest(Contract):
    """Take ``amount`` from ``payer_id``; of it ``payee_amount`` is credited to ``payee_id``'s
    balance (a driver, a courier; cash-out as for runners) and ``fee_amount`` is the platform's.
    ``payee_amount + fee_amount <= amount``; the rest, if any, is platform revenue too."""

    SUBJECT = "charge_id"

    charge_id: uuid.UUID
    source: str  # the vertical: rides, rail, parcels
    reference_id: uuid.UUID  # the ride, rail booking or parcel order paid for
    reference: str = ""  # what a person reads: a PNR, a tracking number
    payer_id: uuid.UUID
    amount: int = Field(gt=0)
    currency: str
    payee_id: uuid.UUID | None = None
    payee_amount: int = Field(0, ge=0)
    fee_amount: int = Field(0, ge=0)
    payment_method: str | None = None  # a card token; the provider's default card when None
    description: str = ""
    requested_at: Time | None = None


class RefundRequest(Contract):
    """Give back ``amount`` (at most what is left) of a captured charge to its payer."""

    SUBJECT = "charge_id"

    refund_id: uuid.UUID
    charge_id: uuid.UUID
    source: str
    reference_id: uuid.UUID
    amount: int = Field(gt=0)
    currency: str
    reason: str = ""
    requested_at: Time | None = None


class RideChargeRequested(ChargeRequest):
    TYPE = "rides.charge_requested"


class RailChargeRequested(ChargeRequest):
    TYPE = "rail.charge_requested"


class ParcelChargeRequested(ChargeRequest):
    TYPE = "parcels.charge_requested"


class RailRefundRequested(RefundRequest):
    TYPE = "rail.refund_requested"


class ParcelRefundRequested(RefundRequest):
    TYPE = "parcels.refund_requested"


class ChargeOutcome(Contract):
    SUBJECT = "charge_id"

    charge_id: uuid.UUID
    source: str
    reference_id: uuid.UUID
    payer_id: uuid.UUID | None = None
    amount: int = 0
    currency: str = ""
    occurred_at: Time | None = None


class ChargeCaptured(ChargeOutcome):
    TYPE = "payment.charge_captured"

    payee_id: uuid.UUID | None = None
    payee_amount: int = 0
    fee_amount: int = 0


class ChargeFailed(ChargeOutcome):
    """The card was declined or the provider failed for good; nothing was taken."""

    TYPE = "payment.charge_failed"

    reason: str = ""


class ChargeRefunded(ChargeOutcome):
    """``amount`` is what this refund gave back; ``refunded_total`` all refunds of the charge."""

    TYPE = "payment.charge_refunded"

    refund_id: uuid.UUID
    refunded_total: int = 0


class RefundFailed(ChargeOutcome):
    TYPE = "payment.refund_failed"

    refund_id: uuid.UUID
    reason: str = ""
