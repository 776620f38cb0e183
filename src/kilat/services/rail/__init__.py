"""Rail service (Jatra): timetable, search, seat holds, PNR bookings, signed QR tickets."""

from __future__ import annotations

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor


def _descriptor() -> ServiceDescriptor:
    from kilat.services.rail.api import routers
    from kilat.services.rail.context import rail_context
    from kilat.services.rail.demo import seed_demo
    from kilat.services.rail.handlers import handlers
    from kilat.services.rail.jobs import start_sweeper
    from kilat.services.rail.models import metadata
    from kilat.services.rail.settings import RailSettings

    return ServiceDescriptor(
        name="rail",
        port=8013,
        title="Kilat rail service",
        routers=routers,
        metadata=metadata,
        migrations_dir=Path(__file__).parent / "migrations",
        handlers=handlers,
        on_start=[start_sweeper],
        seed_demo=seed_demo,
        settings=RailSettings,
        context=rail_context,
    )


descriptor = _descriptor()
