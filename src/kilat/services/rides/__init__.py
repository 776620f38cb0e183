"""Rides service (NebengJek): drivers' beacons, matching within a radius with confirmation by
both sides, GPS-metered fares with the driver's adjustment, and payment with a payout."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime


async def _start_live(runtime: ServiceRuntime) -> None:
    from kilat.services.rides.matching import process_due

    live = runtime.context.live
    live.process_due = lambda now: process_due(runtime, now)
    await live.start()


async def _stop_live(runtime: ServiceRuntime) -> None:
    await runtime.context.live.stop()


def _descriptor() -> ServiceDescriptor:
    from kilat.services.rides.api import routers
    from kilat.services.rides.context import rides_context
    from kilat.services.rides.handlers import handlers
    from kilat.services.rides.models import metadata
    from kilat.services.rides.settings import RidesSettings

    return ServiceDescriptor(
        name="rides",
        port=8011,
        title="Kilat rides service",
        routers=routers,
        metadata=metadata,
        migrations_dir=Path(__file__).parent / "migrations",
        handlers=handlers,
        on_start=[_start_live],
        on_stop=[_stop_live],
        settings=RidesSettings,
        context=rides_context,
    )


descriptor = _descriptor()
