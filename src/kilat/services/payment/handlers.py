"""Event consumers: the bookings read model, escrow release and refund, referral credits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.platform.runtime import ServiceRuntime
from kilat.services.payment.bookings import apply_booking_fact, as_uuid, parse_time
from kilat.services.payment.context import payment_context
from kilat.services.payment.domain import EscrowAction
from kilat.services.payment.referrals import credit_if_due, record_referral
from kilat.services.payment.settlement import Settlement


def handlers(runtime: ServiceRuntime) -> dict:
    def ctx():
        return payment_context(runtime)

    async def on_booking(session: AsyncSession, event: Event) -> None:
        data = event.data
        as_of = parse_time(data.get("occurred_at"), event.time)
        view = await apply_booking_fact(session, data, as_of)
        settlement = Settlement(ctx())
        if event.type in ("booking.accepted", "booking.declined"):
            await settlement.follow_runner(session, view)
        if event.type in ("booking.delivery_confirmed", "booking.completed"):
            await settlement.request(session, view.booking_id, EscrowAction.RELEASE,
                                 runner_id=as_uuid(data.get("runner_id")))
        if event.type == "booking.completed":
            await credit_if_due(session, ctx(), view.owner_id)
        if event.type == "booking.cancelled":
            reason = data.get("reason") or "no reason given"
            await settlement.request(session, view.booking_id, EscrowAction.REFUND,
                                 reason=f"booking cancelled: {reason}")

    async def on_referral(session: AsyncSession, event: Event) -> None:
        await record_referral(session, ctx(), event.data)

    return {"booking.*": on_booking, "identity.referral_recorded": on_referral}
