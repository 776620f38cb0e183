"""Durable in-process event bus for the embedded profile, kept in a SQLite file."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import structlog
from pydantic import ValidationError

from kilat.platform.events.bus import (
    DEFAULT_LANES,
    Delivery,
    DeliveryHandler,
    FastHandler,
    MemoryBus,
    deliver_in_lanes,
    is_unavailable,
    retry_delay,
    subject_of,
    unavailable_retry_delay,
)
from kilat.platform.events.envelope import Event, matches
from kilat.platform.tasks import stop_if_cancelled

log = structlog.get_logger(__name__)

# failures tolerated past max_attempts (a consumer whose dead-letter write fails) before giving up
REDELIVERY_MARGIN = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    published_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_bus_events_published_at ON bus_events (published_at);
CREATE TABLE IF NOT EXISTS bus_consumers (
    name TEXT PRIMARY KEY,
    patterns TEXT NOT NULL,
    registered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_deliveries (
    consumer TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    done_at REAL,
    last_error TEXT,
    PRIMARY KEY (consumer, seq)
);
CREATE INDEX IF NOT EXISTS ix_bus_deliveries_pending
    ON bus_deliveries (consumer, seq) WHERE done_at IS NULL;
CREATE INDEX IF NOT EXISTS ix_bus_deliveries_done_at ON bus_deliveries (done_at);
CREATE INDEX IF NOT EXISTS ix_bus_deliveries_seq ON bus_deliveries (seq);
"""


@dataclass
class _Consumer:
    name: str
    handlers: list[DeliveryHandler] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    turn: itertools.count = field(default_factory=itertools.count)

    def next_handler(self) -> DeliveryHandler:
        return self.handlers[next(self.turn) % len(self.handlers)]


@dataclass(frozen=True)
class _Due:
    seq: int
    attempts: int
    payload: str


class LocalBus:
    """EventBus kept in a SQLite file, so the embedded profile loses nothing when the process dies.

    ``publish`` stores the event (once per id) and a delivery row for every consumer name ever
    subscribed whose patterns match, in one transaction. Each consumer name has one dispatcher
    that hands due deliveries, in publish order, to its handlers in turn; the row is marked done
    only after the handler returned, so an event whose handler was interrupted is delivered again
    after a restart. Failures are retried with exponential backoff kept in the row. Done rows and
    their events are pruned after ``retention_seconds``, which is also the de-duplication window.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        max_attempts: int = 5,
        retry_base_seconds: float = 0.5,
        retention_seconds: float = 7 * 24 * 3600,
        prune_every_seconds: float = 3600.0,
        idle_poll_seconds: float = 1.0,
        batch_size: int = 100,
        lanes: int = DEFAULT_LANES,
    ) -> None:
        self.path = Path(path)
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.retention_seconds = retention_seconds
        self.prune_every_seconds = prune_every_seconds
        self.idle_poll_seconds = idle_poll_seconds
        self.batch_size = batch_size
        self.lanes = lanes
        self._db: aiosqlite.Connection | None = None
        self._closed = False
        self._lock = asyncio.Lock()
        self._consumers: dict[str, _Consumer] = {}
        self._tasks: set[asyncio.Task] = set()
        self._telemetry = MemoryBus()

    async def start(self) -> None:
        if self._db is not None:
            return
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA busy_timeout=30000")
        await db.execute("PRAGMA synchronous=NORMAL")
        await db.executescript(SCHEMA)
        self._db = db
        self._spawn(self._prune_periodically(), "local-bus:prune")

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._consumers.clear()
        await self._telemetry.close()
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> None:
        async with self._connection() as db:
            await db.execute("SELECT 1")

    async def recent(self, event_type: str, since: datetime) -> list[Event]:
        async with self._connection() as db:
            rows = await db.execute_fetchall(
                "SELECT payload FROM bus_events WHERE type = ? AND published_at >= ? ORDER BY seq",
                (event_type, since.timestamp()),
            )
        return [Event.from_json(payload) for (payload,) in rows]

    # -- durable events -------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO bus_events (id, type, payload, published_at) "
                "VALUES (?, ?, ?, ?)",
                (str(event.id), event.type, event.to_json().decode(), time.time()),
            )
            if cursor.rowcount == 0:
                return
            targets = await self._interested(db, event.type)
            await db.executemany(
                "INSERT INTO bus_deliveries (consumer, seq, event_id, next_attempt_at) "
                "VALUES (?, ?, ?, ?)",
                [(name, cursor.lastrowid, str(event.id), 0.0) for name in targets],
            )
        for name in targets:
            if name in self._consumers:
                self._consumers[name].wake.set()

    async def _interested(self, db: aiosqlite.Connection, event_type: str) -> list[str]:
        rows = await db.execute_fetchall("SELECT name, patterns FROM bus_consumers")
        return [name for name, patterns in rows
                if any(matches(p, event_type) for p in json.loads(patterns))]

    async def subscribe(self, consumer: str, patterns: list[str], handler: DeliveryHandler) -> None:
        await self._register(consumer, patterns)
        state = self._consumers.get(consumer)
        if state is None:
            state = self._consumers[consumer] = _Consumer(consumer)
            self._spawn(self._dispatch(state), f"local-bus:{consumer}")
        state.handlers.append(handler)
        state.wake.set()

    async def _register(self, consumer: str, patterns: list[str]) -> None:
        """Record what ``consumer`` listens to; a second subscriber in this process adds to it."""
        async with self._transaction() as db:
            known: list[str] = []
            if consumer in self._consumers:
                rows = await db.execute_fetchall(
                    "SELECT patterns FROM bus_consumers WHERE name = ?", (consumer,)
                )
                known = json.loads(rows[0][0]) if rows else []
            merged = list(dict.fromkeys([*known, *patterns]))
            await db.execute(
                "INSERT INTO bus_consumers (name, patterns, registered_at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET patterns = excluded.patterns",
                (consumer, json.dumps(merged), time.time()),
            )

    async def _dispatch(self, consumer: _Consumer) -> None:
        while True:
            try:
                await self._dispatch_due(consumer)
            except Exception as exc:  # the bus file is busy or broken: keep the dispatcher alive
                stop_if_cancelled(exc)
                log.error("event dispatch failed", consumer=consumer.name, error=str(exc))
                await asyncio.sleep(self.idle_poll_seconds)

    async def _dispatch_due(self, consumer: _Consumer) -> None:
        consumer.wake.clear()
        due = await self._due(consumer.name)

        async def deliver(item: _Due) -> None:
            await self._deliver(consumer, item)

        await deliver_in_lanes(due, _lane, deliver, lanes=self.lanes)
        if not due:
            await self._sleep_until_due(consumer)

    async def _due(self, consumer: str) -> list[_Due]:
        async with self._connection() as db:
            rows = await db.execute_fetchall(
                "SELECT d.seq, d.attempts, e.payload FROM bus_deliveries d "
                "JOIN bus_events e ON e.seq = d.seq "
                "WHERE d.consumer = ? AND d.done_at IS NULL AND d.next_attempt_at <= ? "
                "ORDER BY d.seq LIMIT ?",
                (consumer, time.time(), self.batch_size),
            )
        return [_Due(*row) for row in rows]

    async def _sleep_until_due(self, consumer: _Consumer) -> None:
        async with self._connection() as db:
            rows = await db.execute_fetchall(
                "SELECT MIN(next_attempt_at) FROM bus_deliveries "
                "WHERE consumer = ? AND done_at IS NULL",
                (consumer.name,),
            )
        timeout = self.idle_poll_seconds  # also catches rows another process published
        if rows[0][0] is not None:
            timeout = min(timeout, max(rows[0][0] - time.time(), 0.0))
        try:
            await asyncio.wait_for(consumer.wake.wait(), timeout=timeout)
        except TimeoutError:
            pass

    async def _deliver(self, consumer: _Consumer, item: _Due) -> None:
        attempt = item.attempts + 1
        try:
            event = Event.from_json(item.payload)
        except ValidationError as exc:
            log.error("malformed event dropped", consumer=consumer.name, seq=item.seq, error=str(exc))
            await self._finish(consumer.name, item.seq, error=str(exc))
            return
        try:
            await consumer.next_handler()(Delivery(event, attempt, self.max_attempts))
        except Exception as exc:
            await self._failed(consumer.name, item.seq, attempt, exc)
        else:
            await self._finish(consumer.name, item.seq)

    async def _finish(self, consumer: str, seq: int, error: str | None = None) -> None:
        async with self._transaction() as db:
            await db.execute(
                "UPDATE bus_deliveries SET done_at = ?, last_error = ? WHERE consumer = ? AND seq = ?",
                (time.time(), error, consumer, seq),
            )

    async def _failed(self, consumer: str, seq: int, attempt: int, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        unavailable = is_unavailable(exc)
        if attempt >= self.max_attempts + REDELIVERY_MARGIN and not unavailable:
            log.error("event delivery abandoned", consumer=consumer, seq=seq, attempts=attempt,
                      error=error)
            await self._finish(consumer, seq, error=error)
            return
        log.warning("event handling failed", consumer=consumer, seq=seq, attempt=attempt, error=error)
        delay = (unavailable_retry_delay if unavailable else retry_delay)(attempt,
                                                                          self.retry_base_seconds)
        retry_at = time.time() + delay
        async with self._transaction() as db:
            await db.execute(
                "UPDATE bus_deliveries SET attempts = ?, next_attempt_at = ?, last_error = ? "
                "WHERE consumer = ? AND seq = ?",
                (attempt, retry_at, error, consumer, seq),
            )

    # -- retention ------------------------------------------------------------------------------

    async def prune(self, now: float | None = None) -> int:
        """Delete done deliveries and fully delivered events older than the retention period."""
        cutoff = (now if now is not None else time.time()) - self.retention_seconds
        async with self._transaction() as db:
            await db.execute("DELETE FROM bus_deliveries WHERE done_at < ?", (cutoff,))
            cursor = await db.execute(
                "DELETE FROM bus_events WHERE published_at < ? AND NOT EXISTS "
                "(SELECT 1 FROM bus_deliveries d WHERE d.seq = bus_events.seq)",
                (cutoff,),
            )
            return cursor.rowcount

    async def _prune_periodically(self) -> None:
        while True:
            try:
                await self.prune()
            except Exception as exc:
                stop_if_cancelled(exc)
                log.warning("event bus pruning failed", error=str(exc))
            await asyncio.sleep(self.prune_every_seconds)

    # -- telemetry fast path: in memory, best effort --------------------------------------------

    async def publish_fast(self, subject: str, payload: dict[str, Any]) -> None:
        await self._telemetry.publish_fast(subject, payload)

    async def subscribe_fast(self, subject: str, handler: FastHandler) -> None:
        await self._telemetry.subscribe_fast(subject, handler)

    # -- plumbing -------------------------------------------------------------------------------

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        """The shared connection, one coroutine at a time so transactions never interleave."""
        if self._db is None:
            if self._closed:
                raise RuntimeError("the event bus is closed")
            await self.start()
        async with self._lock:
            yield self._db

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._connection() as db:
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            await db.execute("COMMIT")

    def _spawn(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _lane(item: _Due) -> str | None:
    return subject_of(item.payload)
