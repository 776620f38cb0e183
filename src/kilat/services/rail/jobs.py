"""The hold sweeper: lapsed holds found through the (status, expires_at) index, never a scan."""

from __future__ import annotations

import asyncio

import structlog

from kilat.platform.models import utcnow
from kilat.platform.runtime import ServiceRuntime
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.rail.bookings import BookingService
from kilat.services.rail.repository import Claims

log = structlog.get_logger(__name__)
BATCH = 200


async def sweep_lapsed_holds(runtime: ServiceRuntime) -> int:
    """Expire one batch of holds past their deadline; returns how many."""
    now = utcnow()
    async with runtime.database.session() as session:
        holds = await Claims(session).lapsed_holds(now, BATCH)
        service = BookingService(session, runtime.context)
        for hold in holds:
            await service.expire(hold, now)
    return len(holds)


async def _sweep_forever(runtime: ServiceRuntime) -> None:
    while True:
        try:
            while await sweep_lapsed_holds(runtime) == BATCH:
                pass
        except Exception as exc:  # noqa: BLE001 - a failed sweep is retried on the next tick
            stop_if_cancelled(exc)
            log.warning("rail hold sweep failed", error=str(exc))
        await asyncio.sleep(runtime.context.settings.sweep_seconds)


async def start_sweeper(runtime: ServiceRuntime) -> None:
    runtime.spawn(_sweep_forever(runtime), "rail-hold-sweep")
