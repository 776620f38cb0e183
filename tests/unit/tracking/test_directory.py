"""The trip directory's memory of runners without a trip: kept until a trip names them."""

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from kilat.services.tracking.directory import TripDirectory
from kilat.services.tracking.frames import TripSnapshot
from kilat.services.tracking.repository import Trips

AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class FakeDatabase:
    """Sessions that are never used: the test replaces the one query the directory makes."""

    def __init__(self) -> None:
        self.sessions = 0

    @asynccontextmanager
    async def session(self, write: bool = True):
        self.sessions += 1
        yield None


def active_trip(runner_id: uuid.UUID) -> TripSnapshot:
    return TripSnapshot(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), runner_id, "active", "accepted",
                        None, AT)


async def test_a_runner_without_a_trip_is_remembered_past_the_miss_ttl_until_a_trip_names_them(
        monkeypatch):
    async def no_trip(self, runner_id):
        return None

    monkeypatch.setattr(Trips, "active_for_runner", no_trip)
    database, runner = FakeDatabase(), uuid.uuid4()
    directory = TripDirectory(database, idle_seconds=60, miss_ttl=0.01)
    assert await directory.for_runner(runner) is None
    await asyncio.sleep(0.05)
    assert await directory.for_runner(runner) is None and database.sessions == 1
    assert directory.knows_no_trip_for_runner(runner)

    trip = active_trip(runner)
    directory.remember(trip)
    assert not directory.knows_no_trip_for_runner(runner)
    assert (await directory.for_runner(runner)).snapshot == trip and database.sessions == 1

