"""Tracking: live trips over WebSocket, batched waypoints, GeoJSON routes, chat, share links."""

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.services.tracking.api import routers
from kilat.services.tracking.context import tracking_context
from kilat.services.tracking.handlers import handlers
from kilat.services.tracking.models import metadata
from kilat.services.tracking.settings import TrackingSettings


async def _start_live(runtime: ServiceRuntime) -> None:
    await runtime.context.live.start()


async def _stop_live(runtime: ServiceRuntime) -> None:
    await runtime.context.live.stop()


descriptor = ServiceDescriptor(
    name="tracking",
    port=8005,
    title="Kilat tracking",
    routers=routers,
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    extensions=("postgis",),
    on_start=[_start_live],
    on_stop=[_stop_live],
    settings=TrackingSettings,
    context=tracking_context,
)
