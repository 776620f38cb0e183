"""Booking service: pet bookings from request to completion, pets, photos, job discovery."""

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.platform.settings import SERVICE_PORTS
from kilat.platform.storage import build_storage
from kilat.services.booking.api import FILES_PATH, routers
from kilat.services.booking.handlers import handlers
from kilat.services.booking.models import metadata
from kilat.services.booking.settings import BookingSettings

STORAGE_KEY = "booking_storage"


async def _start(runtime: ServiceRuntime) -> None:
    runtime.state.setdefault("settings", BookingSettings())
    storage = runtime.infra.extras.get(STORAGE_KEY)
    runtime.state["storage"] = storage or build_storage(runtime.settings, base_url=FILES_PATH)


async def _stop(runtime: ServiceRuntime) -> None:
    storage = runtime.state.pop("storage", None)
    if storage is not None:
        await storage.close()


descriptor = ServiceDescriptor(
    name="booking",
    port=SERVICE_PORTS["booking"],
    title="Kilat booking service",
    routers=routers,
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    extensions=("postgis",),
    on_start=[_start],
    on_stop=[_stop],
)
