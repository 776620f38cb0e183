"""The batch writer: one transaction per batch, bounded buffer, failed batches retried then dropped."""

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from kilat.services.tracking.settings import TrackingSettings
from kilat.services.tracking.writer import WaypointWriter

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


class FakeDatabase:
    def __init__(self) -> None:
        self.sessions = 0

    @asynccontextmanager
    async def session(self, write: bool = True):
        self.sessions += 1
        yield object()


class FakeRetention:
    def __init__(self) -> None:
        self.days: set = set()

    async def ensure_days(self, days) -> None:
        self.days |= days


class Store:
    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[dict]] = []
        self.failures = failures

    async def __call__(self, _session, rows) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")
        self.batches.append(list(rows))


def rows(count: int, trip_id=None) -> list[dict]:
    trip_id = trip_id or uuid.uuid4()
    return [{"trip_id": trip_id, "recorded_at": T0 + timedelta(seconds=i)} for i in range(count)]


def writer(store, **settings) -> tuple[WaypointWriter, FakeDatabase, FakeRetention]:
    database, retention = FakeDatabase(), FakeRetention()
    values = {"waypoint_batch_size": 100, "waypoint_flush_seconds": 0.02} | settings
    return WaypointWriter(database, TrackingSettings(**values), store, retention), database, retention


async def test_many_pings_become_few_batches_of_at_most_the_batch_size():
    store = Store()
    w, database, retention = writer(store)
    for row in rows(250):
        w.add(row)
    assert await w.flush() == 250
    assert [len(b) for b in store.batches] == [100, 100, 50]
    assert database.sessions == 3 and w.stats.transactions == 3 and w.stats.written == 250
    assert retention.days == {T0.date()}


async def test_a_full_batch_is_written_without_waiting_for_the_timer():
    store = Store()
    w, _db, _ret = writer(store, waypoint_batch_size=10, waypoint_flush_seconds=60)
    task = asyncio.create_task(w.run())
    for row in rows(10):
        w.add(row)
    for _ in range(50):
        await asyncio.sleep(0.01)
        if store.batches:
            break
    task.cancel()
    assert [len(b) for b in store.batches] == [10]


async def test_a_failed_batch_is_kept_and_written_later():
    store = Store(failures=1)
    w, _db, _ret = writer(store)
    for row in rows(5):
        w.add(row)
    assert await w.flush() == 0 and w.pending == 5
    assert await w.flush() == 5 and w.pending == 0 and w.stats.failures == 1


async def test_a_batch_failing_again_and_again_is_dropped_so_the_writer_never_stalls():
    store = Store(failures=3)
    w, _db, _ret = writer(store)
    for row in rows(5):
        w.add(row)
    for _ in range(3):
        await w.flush()
    assert w.pending == 0 and w.stats.dropped == 5
    w.add(rows(1)[0])
    assert await w.flush() == 1


async def test_the_buffer_is_bounded_and_drops_the_oldest():
    store = Store()
    w, _db, _ret = writer(store, waypoint_buffer_limit=10, waypoint_batch_size=100)
    for row in rows(15):
        w.add(row)
    assert w.pending == 10 and w.stats.dropped == 5
    await w.flush()
    assert store.batches[0][0]["recorded_at"] == T0 + timedelta(seconds=5)


async def test_rows_not_yet_committed_are_found_per_trip():
    store = Store()
    w, _db, _ret = writer(store)
    mine = uuid.uuid4()
    for row in rows(3, mine) + rows(2):
        w.add(row)
    assert len(w.pending_for(mine)) == 3
