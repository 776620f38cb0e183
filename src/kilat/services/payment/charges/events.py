"""Events of charges (kilat.contracts.charges; subject: the charge's id)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import charges as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.payment.models import Charge, ChargeRefund


def _outcome(charge: Charge) -> dict[str, Any]:
    return {"charge_id": charge.id, "source": charge.source, "reference_id": charge.reference_id,
            "payer_id": charge.payer_id, "amount": charge.amount, "currency": charge.currency,
            "occurred_at": utcnow()}


async def charge_captured(session: AsyncSession, charge: Charge) -> None:
    await record_event(session, contracts.ChargeCaptured(
        **_outcome(charge), payee_id=charge.payee_id, payee_amount=charge.payee_amount,
        fee_amount=charge.fee_amount))


async def charge_failed(session: AsyncSession, charge: Charge) -> None:
    await record_event(session, contracts.ChargeFailed(**_outcome(charge),
                                                       reason=charge.failure_reason or ""))


async def charge_refunded(session: AsyncSession, charge: Charge, refund: ChargeRefund) -> None:
    await record_event(session, contracts.ChargeRefunded(
        **_outcome(charge) | {"amount": refund.amount}, refund_id=refund.id,
        refunded_total=charge.refunded_total))


async def refund_failed(session: AsyncSession, refund: ChargeRefund,
                        charge: Charge | None) -> None:
    """``payment.refund_failed``; ``charge`` is None when the charge is unknown here."""
    await record_event(session, contracts.RefundFailed(
        charge_id=refund.charge_id, source=refund.source, reference_id=refund.reference_id,
        payer_id=charge.payer_id if charge else None, amount=refund.amount,
        currency=refund.currency, occurred_at=utcnow(), refund_id=refund.id,
        reason=refund.failure_reason or ""))
