"""Parcels service (DropMate): orders, shipments, courier dispatch, telemetry, webhooks."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime


async def _start(runtime: ServiceRuntime) -> None:
    context = runtime.context
    await context.live.start()
    runtime.spawn(context.webhook_sender.run(), "webhook-sender")
    runtime.spawn(context.jobs.run(), "jobs")


async def _stop(runtime: ServiceRuntime) -> None:
    await runtime.context.live.stop()
    await runtime.context.storage.close()


def _descriptor() -> ServiceDescriptor:
    from kilat.services.parcels.api import routers
    from kilat.services.parcels.context import parcels_context
    from kilat.services.parcels.handlers import handlers
    from kilat.services.parcels.models import metadata
    from kilat.services.parcels.settings import ParcelsSettings

    return ServiceDescriptor(
        name="parcels",
        port=8012,
        title="Kilat parcels service",
        routers=routers,
        metadata=metadata,
        migrations_dir=Path(__file__).parent / "migrations",
        handlers=handlers,
        on_start=[_start],
        on_stop=[_stop],
        settings=ParcelsSettings,
        context=parcels_context,
    )


descriptor = _descriptor()
