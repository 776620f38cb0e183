"""Builders for charge tests: a vertical's charge and refund requests, and reading the outcome."""

from __future__ import annotations

import uuid

from kilat.contracts.charges import (
    ParcelChargeRequested,
    ParcelRefundRequested,
    RailChargeRequested,
    RailRefundRequested,
    RideChargeRequested,
)
from tests.service.payment.support import Person, World, wait_for

CHARGES = {"rides": RideChargeRequested, "rail": RailChargeRequested,
           "parcels": ParcelChargeRequested}
REFUNDS = {"rail": RailRefundRequested, "parcels": ParcelRefundRequested}
CURRENCIES = {"rides": "IDR", "rail": "BDT", "parcels": "USD"}


def charge_request(payer: Person, *, source: str = "rides", amount: int = 10000,
                   payee: Person | None = None, payee_amount: int = 0, fee_amount: int = 0,
                   **fields):
    """A vertical's charge request (``rides``: IDR; a 95/5 split when a payee is named)."""
    if payee is not None and not payee_amount:
        fee_amount = fee_amount or amount * 5 // 100
        payee_amount = amount - fee_amount
    return CHARGES[source](
        charge_id=fields.pop("charge_id", uuid.uuid4()), source=source,
        reference_id=fields.pop("reference_id", uuid.uuid4()), payer_id=payer.user_id,
        amount=amount, currency=fields.pop("currency", CURRENCIES[source]),
        payee_id=payee.user_id if payee else None, payee_amount=payee_amount,
        fee_amount=fee_amount, **fields)


def refund_request(charge, amount: int, **fields):
    return REFUNDS[charge.source](
        refund_id=fields.pop("refund_id", uuid.uuid4()), charge_id=charge.charge_id,
        source=charge.source, reference_id=charge.reference_id, amount=amount,
        currency=fields.pop("currency", charge.currency), **fields)


async def charge_of(world: World, charge_id, status: str | None = None,
                    timeout: float = 5.0) -> dict:
    """The charge as an admin reads it, once it is in ``status`` (any status when None)."""
    async def reached():
        response = await world.client.get(f"/api/v1/payments/charges/{charge_id}",
                                          headers=world.admin.headers)
        if response.status_code != 200:
            return None
        data = response.json()["data"]
        return data if status is None or data["status"] == status else None

    return await wait_for(reached, timeout)


def outcomes(world: World, type_: str, charge_id) -> list[dict]:
    return [e for e in world.events(type_) if e["charge_id"] == str(charge_id)]
