"""Rides service (NebengJek): phone sign-in riders and drivers, matching, GPS-metered fares."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor


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
        settings=RidesSettings,
        context=rides_context,
    )


descriptor = _descriptor()
