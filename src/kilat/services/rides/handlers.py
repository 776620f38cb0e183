"""Event consumers: the payment service's answers to the rides' charges."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import ChargeCaptured, ChargeFailed
from kilat.platform.events import Event
from kilat.platform.models import utcnow
from kilat.platform.runtime import ServiceRuntime
from kilat.services.rides.context import RidesContext
from kilat.services.rides.trips import Trips

SOURCE = "rides"


def handlers(runtime: ServiceRuntime) -> dict:
    context: RidesContext = runtime.context

    async def on_captured(session: AsyncSession, event: Event) -> None:
        outcome: ChargeCaptured = event.payload
        if outcome.source == SOURCE:
            await Trips(session, context, utcnow()).charge_captured(outcome)

    async def on_failed(session: AsyncSession, event: Event) -> None:
        outcome: ChargeFailed = event.payload
        if outcome.source == SOURCE:
            await Trips(session, context, utcnow()).charge_failed(outcome)

    return {ChargeCaptured.TYPE: on_captured, ChargeFailed.TYPE: on_failed}
