"""Booking service: pet bookings from request to completion, pets, photos, job discovery."""

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.platform.settings import SERVICE_PORTS
from kilat.platform.storage import build_storage
from kilat.services.booking.api import FILES_PATH, routers
from kilat.services.booking.context import BookingContext
from kilat.services.booking.handlers import handlers
from kilat.services.booking.models import metadata
from kilat.services.booking.settings import BookingSettings

def booking_context(runtime: ServiceRuntime) -> BookingContext:
    return BookingContext(settings=runtime.own_settings(),
                          storage=build_storage(runtime.settings, base_url=FILES_PATH))


async def _stop(runtime: ServiceRuntime) -> None:
    await runtime.context.storage.close()


descriptor = ServiceDescriptor(
    name="booking",
    port=SERVICE_PORTS["booking"],
    title="Kilat booking service",
    routers=routers,
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    extensions=("postgis",),
    on_stop=[_stop],
    settings=BookingSettings,
    context=booking_context,
)
