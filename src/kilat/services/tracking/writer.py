"""Waypoints reach the database in batches, and leave it after the retention period."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.db import Database
from kilat.platform.models import utcnow
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.tracking.repository import WaypointPartitions, Waypoints
from kilat.services.tracking.settings import TrackingSettings

log = structlog.get_logger(__name__)

STORED = Counter("kilat_tracking_waypoints_stored_total", "Waypoints written in batches")
BATCHES = Counter("kilat_tracking_waypoint_batches_total", "Waypoint batch transactions")
LOST = Counter("kilat_tracking_waypoints_dropped_total", "Waypoints dropped (buffer full or poison)")

MAX_BATCH_FAILURES = 3

Persist = Callable[[AsyncSession, list[dict]], Awaitable[None]]


@dataclass
class WriterStats:
    received: int = 0
    written: int = 0
    transactions: int = 0
    dropped: int = 0
    failures: int = 0


class WaypointRetention:
    """Day partitions on PostgreSQL (created ahead, dropped when old); a plain delete on SQLite."""

    def __init__(self, database: Database, settings: TrackingSettings) -> None:
        self.database = database
        self.settings = settings
        self._known_days: set[date] = set()

    async def ensure_days(self, days: set[date]) -> None:
        missing = days - self._known_days
        if not missing or self.database.is_sqlite:
            return
        async with self.database.session() as session:
            partitions = WaypointPartitions(session)
            await partitions.lock()
            existing = await partitions.days()
            for day in sorted(missing - existing):
                await partitions.create(day)
        self._known_days |= missing

    async def run_once(self, now: datetime) -> list[date]:
        """Prepare the coming days and forget the expired ones; returns the days dropped."""
        today = now.astimezone(UTC).date()
        oldest_kept = today - timedelta(days=self.settings.retention_days)
        if self.database.is_sqlite:
            cutoff = datetime.combine(oldest_kept, datetime.min.time(), UTC)
            async with self.database.session() as session:
                await Waypoints(session).delete_before(cutoff)
            return []
        ahead = {today + timedelta(days=n) for n in range(-1, self.settings.partitions_ahead_days + 1)}
        async with self.database.session() as session:
            partitions = WaypointPartitions(session)
            await partitions.lock()
            existing = await partitions.days()
            for day in sorted(ahead - existing):
                await partitions.create(day)
            expired = sorted(day for day in existing if day < oldest_kept)
            for day in expired:
                await partitions.drop(day)
        self._known_days = (self._known_days | ahead) - set(expired)
        return expired

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.maintenance_interval_seconds)
            try:
                dropped = await self.run_once(utcnow())
                if dropped:
                    log.info("waypoint partitions dropped", days=[str(d) for d in dropped])
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("waypoint maintenance failed", error=str(exc))


class WaypointWriter:
    """Buffers accepted pings and stores them in one transaction per flush, never one per ping.

    A flush happens every ``waypoint_flush_seconds`` or as soon as ``waypoint_batch_size`` rows
    wait. A failed batch is kept and tried again; after a few failures in a row it is dropped
    (telemetry may be lost, the service must not stall). The buffer is bounded.
    """

    def __init__(self, database: Database, settings: TrackingSettings, persist: Persist,
                 retention: WaypointRetention) -> None:
        self.database = database
        self.settings = settings
        self.persist = persist
        self.retention = retention
        self.stats = WriterStats()
        self._rows: list[dict] = []
        self._in_flight: list[dict] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._failures = 0

    def add(self, row: dict) -> None:
        self._rows.append(row)
        self.stats.received += 1
        overflow = len(self._rows) - self.settings.waypoint_buffer_limit
        if overflow > 0:
            del self._rows[:overflow]
            self._drop(overflow)
        if len(self._rows) >= self.settings.waypoint_batch_size:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._rows) + len(self._in_flight)

    def pending_for(self, trip_id: uuid.UUID) -> list[dict]:
        """Rows of one trip not yet committed (waiting, or in the batch being written)."""
        return [row for row in (*self._in_flight, *self._rows) if row["trip_id"] == trip_id]

    async def run(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.waypoint_flush_seconds)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything waiting, ``waypoint_batch_size`` rows per transaction."""
        written = 0
        async with self._lock:
            while self._rows:
                size = self.settings.waypoint_batch_size
                batch, self._rows = self._rows[:size], self._rows[size:]
                self._in_flight = batch
                try:
                    stored = await self._write(batch)
                finally:
                    self._in_flight = []
                if not stored:
                    self._retry_later(batch)
                    break
                written += len(batch)
        return written

    async def _write(self, batch: list[dict]) -> bool:
        try:
            await self.retention.ensure_days({row["recorded_at"].astimezone(UTC).date()
                                              for row in batch})
            async with self.database.session() as session:
                await self.persist(session, batch)
        except Exception as exc:
            self.stats.failures += 1
            self._failures += 1
            log.warning("waypoint batch failed", rows=len(batch), error=str(exc),
                        failures=self._failures)
            return False
        self._failures = 0
        self.stats.transactions += 1
        self.stats.written += len(batch)
        BATCHES.inc()
        STORED.inc(len(batch))
        return True

    def _retry_later(self, batch: list[dict]) -> None:
        if self._failures >= MAX_BATCH_FAILURES:
            self._failures = 0
            self._drop(len(batch))
            return
        self._rows[:0] = batch

    def _drop(self, count: int) -> None:
        self.stats.dropped += count
        LOST.inc(count)
