"""Event consumers: the bookings read model, escrow release and refund, referral credits.

The handshake with booking is straight: ``booking.delivery_confirmed`` is the one event that asks
for the release; the worker records ``payment.escrow_released``, on which booking completes a
delivered booking. ``booking.completed`` (that one, or the owner's confirm) asks for nothing more.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import (
    BookingAccepted,
    BookingCancelled,
    BookingCompleted,
    BookingDeclined,
    BookingFact,
    DeliveryConfirmed,
)
from kilat.contracts.identity import ReferralRecorded
from kilat.platform.events import Event
from kilat.platform.runtime import ServiceRuntime
from kilat.services.payment.bookings import apply_booking_fact
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow.domain import EscrowAction
from kilat.services.payment.escrow.settlement import Settlement
from kilat.services.payment.referrals.service import credit_if_due, record_referral


def handlers(runtime: ServiceRuntime) -> dict:
    def ctx() -> PaymentContext:
        return runtime.context

    async def on_booking(session: AsyncSession, event: Event) -> None:
        fact: BookingFact = event.payload
        view = await apply_booking_fact(session, fact, fact.occurred_at or event.time)
        settlement = Settlement(ctx())
        if event.type in (BookingAccepted.TYPE, BookingDeclined.TYPE):
            await settlement.follow_runner(session, view)
        if event.type == DeliveryConfirmed.TYPE:
            await settlement.request(session, view.booking_id, EscrowAction.RELEASE,
                                 runner_id=fact.runner_id)
        if event.type == BookingCompleted.TYPE:
            await credit_if_due(session, ctx(), view.owner_id)
        if event.type == BookingCancelled.TYPE:
            reason = fact.reason or "no reason given"
            await settlement.request(session, view.booking_id, EscrowAction.REFUND,
                                 reason=f"booking cancelled: {reason}")

    async def on_referral(session: AsyncSession, event: Event) -> None:
        await record_referral(session, ctx(), event.payload)

    return {"booking.*": on_booking, ReferralRecorded.TYPE: on_referral}
