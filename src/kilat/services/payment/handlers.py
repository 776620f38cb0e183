"""Event consumers: the bookings read model, escrow release and refund, referral credits, and
the verticals' charge and refund requests (recorded here, carried out by the worker).

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
from kilat.contracts.charges import (
    ParcelChargeRequested,
    ParcelRefundRequested,
    RailChargeRequested,
    RailRefundRequested,
    RideChargeRequested,
)
from kilat.contracts.identity import ReferralRecorded
from kilat.platform.events import Event
from kilat.platform.runtime import ServiceRuntime
from kilat.services.payment.bookings import apply_booking_fact
from kilat.services.payment.charges.service import request_charge, request_refund
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

    async def on_charge(session: AsyncSession, event: Event) -> None:
        await request_charge(session, ctx(), event.payload, _vertical(event))

    async def on_refund(session: AsyncSession, event: Event) -> None:
        await request_refund(session, ctx(), event.payload, _vertical(event))

    charges = {contract.TYPE: on_charge for contract in (
        RideChargeRequested, RailChargeRequested, ParcelChargeRequested)}
    refunds = {contract.TYPE: on_refund for contract in (
        RailRefundRequested, ParcelRefundRequested)}
    return {"booking.*": on_booking, ReferralRecorded.TYPE: on_referral, **charges, **refunds}


def _vertical(event: Event) -> str:
    """The vertical asking, by the event's type (``rides.charge_requested`` → rides)."""
    return event.type.split(".", 1)[0]
