"""Event consumers: the payment service's answers to rail charges, and the daily stats kept from
the rail service's own booking events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import ChargeCaptured, ChargeFailed, ChargeRefunded, RefundFailed
from kilat.contracts.rail import (
    RailBookingConfirmed,
    RailBookingCreated,
    RailBookingFailed,
    RailBookingRefunded,
)
from kilat.platform.events import Event
from kilat.platform.models import utcnow
from kilat.platform.runtime import ServiceRuntime
from kilat.services.rail.bookings import BookingService
from kilat.services.rail.context import RailContext
from kilat.services.rail.stats import StatsService


def handlers(runtime: ServiceRuntime) -> dict:
    context: RailContext = runtime.context

    def ours(event: Event) -> bool:
        return getattr(event.payload, "source", None) == "rail"

    async def captured(session: AsyncSession, event: Event) -> None:
        if ours(event):
            await BookingService(session, context).charge_captured(event.payload, utcnow())

    async def failed(session: AsyncSession, event: Event) -> None:
        if ours(event):
            await BookingService(session, context).charge_failed(event.payload, utcnow())

    async def refunded(session: AsyncSession, event: Event) -> None:
        if ours(event):
            await BookingService(session, context).charge_refunded(event.payload, utcnow())

    async def refund_failed(session: AsyncSession, event: Event) -> None:
        if ours(event):
            await BookingService(session, context).refund_failed(event.payload)

    async def count(session: AsyncSession, event: Event) -> None:
        await StatsService(session).record(event.payload, event.time)

    return {ChargeCaptured.TYPE: captured, ChargeFailed.TYPE: failed,
            ChargeRefunded.TYPE: refunded, RefundFailed.TYPE: refund_failed,
            RailBookingCreated.TYPE: count,
            RailBookingConfirmed.TYPE: count, RailBookingFailed.TYPE: count,
            RailBookingRefunded.TYPE: count}
