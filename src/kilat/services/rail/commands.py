"""What ``kilat rail ...`` runs: the demo timetable seed and the offline ticket check."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from kilat.platform.db import Database
from kilat.platform.settings import Settings
from kilat.services.rail import qr
from kilat.services.rail.demo import seed_timetable


async def seed(settings: Settings, days: int, today: date | None = None) -> int:
    """Migrate the rail database of the configured profile and load the demo timetable
    (idempotent: safe to repeat, and while the platform runs). Returns the journeys added."""
    from kilat.app import migrate_services

    await migrate_services(settings, ["rail"])
    database = Database(settings.database_url("rail"), service="rail")
    try:
        async with database.session() as session:
            return await seed_timetable(session, days=days, today=today)
    finally:
        await database.dispose()


def verify_offline(code: str, public_key: Path) -> dict[str, Any]:
    """The ticket fields of a code signed by the key; ``qr.InvalidTicketCode`` otherwise."""
    return qr.decode(code, qr.load_verifier(public_key))
