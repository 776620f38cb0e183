"""Events of cash-outs (kilat.contracts.payment; subject: the cash-out's id)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import payment as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow
from kilat.services.payment.models import CashOut

CASH_OUT_CHANGES = {"requested": contracts.CashOutRequested,
                    "completed": contracts.CashOutCompleted,
                    "failed": contracts.CashOutFailed}


async def cash_out_changed(session: AsyncSession, cash_out: CashOut) -> None:
    """``payment.cash_out_<change>``: requested (pending), completed or failed."""
    change = "requested" if cash_out.status == "pending" else cash_out.status
    await record_event(session, CASH_OUT_CHANGES[change](
        cash_out_id=cash_out.id, runner_id=cash_out.runner_id, user_id=cash_out.runner_id,
        amount_cents=cash_out.amount_cents, fee_cents=cash_out.fee_cents,
        currency=cash_out.currency, status=cash_out.status,
        rail_reference=cash_out.rail_reference, reason=cash_out.failure_reason,
        occurred_at=utcnow()))
