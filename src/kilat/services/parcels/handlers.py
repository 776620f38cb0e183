"""Event consumers of the parcels service: the payment service's answers to its charges."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import ChargeCaptured, ChargeFailed, ChargeRefunded, RefundFailed
from kilat.platform.events import Event
from kilat.platform.runtime import ServiceRuntime
from kilat.services.parcels.orders import SOURCE, OrderService


def handlers(runtime: ServiceRuntime) -> dict:
    def on(method: str):
        async def handle(session: AsyncSession, event: Event) -> None:
            payload = event.payload
            if payload.source != SOURCE:
                return
            await getattr(OrderService(session, runtime.context), method)(payload)

        return handle

    return {ChargeCaptured.TYPE: on("on_captured"), ChargeFailed.TYPE: on("on_failed"),
            ChargeRefunded.TYPE: on("on_refunded"), RefundFailed.TYPE: on("on_refund_failed")}
