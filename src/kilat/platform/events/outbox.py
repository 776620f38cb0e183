"""Transactional outbox: events are written with the state change and relayed after commit."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from sqlalchemy import MetaData, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.base import Contract
from kilat.platform.events.envelope import Event, new_event
from kilat.platform.events.tables import event_tables
from kilat.platform.models import utcnow

log = structlog.get_logger(__name__)

_OUTBOX = event_tables(MetaData()).outbox


async def record_event(
    session: AsyncSession, contract: Contract, *, subject: str | None = None,
    event_id: uuid.UUID | None = None,
) -> Event:
    """Add ``contract`` to the outbox in the caller's transaction; it leaves only after commit.

    Its type is the contract's ``TYPE``, its data the contract's JSON form, its subject the
    aggregate id the contract names unless ``subject`` is given. ``event_id`` (default: a new
    random id) lets a producer name the fact deterministically (``uuid5`` of event, entity and
    version): the broker de-duplicates on it and the outbox refuses the same id twice."""
    event = new_event(contract.TYPE, contract.data(), source=session.info["service"],
                      subject=subject or contract.subject, event_id=event_id)
    await session.execute(
        insert(_OUTBOX).values(
            id=event.id,
            type=event.type,
            payload=event.model_dump(mode="json"),
            created_at=event.time,
            attempts=0,
        )
    )
    session.info["outbox_dirty"] = True
    return event


class OutboxRelay:
    """Publishes committed outbox rows in order and marks them sent.

    Several relays (one per process) may run against one PostgreSQL database: rows are claimed
    with ``FOR UPDATE SKIP LOCKED``. The event id is the broker's de-duplication id, so a row
    published twice (crash between publish and mark) is delivered once.
    """

    def __init__(self, database, bus, *, poll_seconds: float = 0.5, batch_size: int = 200) -> None:
        self.database = database
        self.bus = bus
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self._wake = asyncio.Event()
        self._stopping = False
        # one SQLite drain at a time in this process: a drain that returns has published what was
        # pending when it began, even while the background relay was publishing the same rows
        self._draining = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        backoff = self.poll_seconds
        while not self._stopping:
            try:
                while await self.drain() == self.batch_size:
                    pass
                backoff = self.poll_seconds
            except Exception as exc:  # broker or database down: keep rows, try again later
                log.warning("outbox relay failed", error=str(exc))
                backoff = min(backoff * 2, 10.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            except TimeoutError:
                pass
            self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self) -> int:
        """Publish one batch of pending rows; returns how many were sent."""
        if self.database.is_sqlite:
            return await self._drain_sqlite()
        async with self.database.session() as session:
            query = self._pending().with_for_update(skip_locked=True)
            rows = (await session.execute(query)).all()
            sent, failure = await self._publish(rows)
            await self._mark(session, sent, failure)
            return len(sent)

    async def _drain_sqlite(self) -> int:
        """SQLite has one writer per file: publish between a read and a short write instead of
        holding the service's write lock while the bus is busy. A row published twice (another
        process's relay on the same file got there first) is dropped by the bus's de-duplication."""
        async with self._draining:
            async with self.database.session(write=False) as session:
                rows = (await session.execute(self._pending())).all()
            if not rows:
                return 0
            sent, failure = await self._publish(rows)
            async with self.database.session() as session:
                await self._mark(session, sent, failure)
            return len(sent)

    def _pending(self):
        return (
            select(_OUTBOX.c.id, _OUTBOX.c.payload)
            .where(_OUTBOX.c.published_at.is_(None))
            .order_by(_OUTBOX.c.created_at)
            .limit(self.batch_size)
        )

    async def _publish(self, rows) -> tuple[list, tuple[Any, str] | None]:
        """Publish rows in order, stopping at the first failure (so order is kept)."""
        sent = []
        for row in rows:
            try:
                await self.bus.publish(Event.model_validate(row.payload))
            except Exception as exc:
                return sent, (row.id, str(exc)[:2000])
            sent.append(row.id)
        return sent, None

    @staticmethod
    async def _mark(session: AsyncSession, sent: list, failure: tuple[Any, str] | None) -> None:
        if failure is not None:
            row_id, error = failure
            await session.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id == row_id)
                .values(attempts=_OUTBOX.c.attempts + 1, last_error=error)
            )
        if sent:
            await session.execute(
                update(_OUTBOX).where(_OUTBOX.c.id.in_(sent)).values(published_at=utcnow())
            )
