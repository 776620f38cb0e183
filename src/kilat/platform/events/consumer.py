"""Idempotent consumers: inbox row and handler writes commit together; failures dead-letter."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import MetaData, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events.bus import Delivery, is_unavailable
from kilat.platform.events.envelope import Event, matches
from kilat.platform.events.tables import event_tables
from kilat.platform.models import utcnow

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Event], Awaitable[None]]

_TABLES = event_tables(MetaData())


class EventConsumer:
    """Runs a service's handlers for the events it subscribes to, exactly once per event id."""

    def __init__(self, name: str, database, handlers: dict[str, Handler], on_commit=None) -> None:
        self.name = name
        self.database = database
        self.handlers = handlers
        self.on_commit = on_commit
        self.stopped = False

    @property
    def patterns(self) -> list[str]:
        return list(self.handlers)

    def handler_for(self, event_type: str) -> Handler | None:
        for pattern, handler in self.handlers.items():
            if matches(pattern, event_type):
                return handler
        return None

    def stop(self) -> None:
        """Refuse further deliveries (they are redelivered elsewhere or after a restart)."""
        self.stopped = True

    async def __call__(self, delivery: Delivery) -> None:
        if self.stopped:
            raise RuntimeError(f"consumer {self.name} is stopped")
        event = delivery.event
        handler = self.handler_for(event.type)
        if handler is None:
            return
        try:
            await self.handle(event, handler)
        except Exception as exc:
            if not delivery.is_last_attempt or is_unavailable(exc):
                raise  # redelivered; an outage is no reason to give up on the event
            log.error("event dead-lettered", consumer=self.name, type=event.type,
                      event_id=str(event.id), error=str(exc))
            await self.dead_letter(event, exc, delivery.attempt)

    async def handle(self, event: Event, handler: Handler) -> bool:
        """Apply ``event`` once in its own transaction; returns False when already handled."""
        try:
            async with self.database.session() as session:
                applied = await self.apply(session, event, handler)
        except IntegrityError:
            if await self.handled(event.id):
                return False  # a concurrent instance handled the same event first
            raise  # a conflict in the handler's own writes: retried, then dead-lettered
        if applied and self.on_commit is not None:
            self.on_commit()
        return applied

    async def handled(self, event_id: uuid.UUID) -> bool:
        """Whether this consumer's inbox holds ``event_id`` (committed by any instance)."""
        inbox = _TABLES.inbox
        async with self.database.session(write=False) as session:
            seen = await session.scalar(
                select(inbox.c.event_id).where(inbox.c.event_id == event_id,
                                               inbox.c.consumer == self.name))
        return seen is not None

    async def apply(self, session: AsyncSession, event: Event, handler: Handler) -> bool:
        """The inbox rule inside ``session``: run ``handler`` unless this event id was handled.

        One statement claims the event: an insert that does nothing when the inbox holds it. An
        instance handling the same event concurrently holds that row until it commits (then this
        one skips) or rolls back (then this one handles it)."""
        inbox = _TABLES.inbox
        dialect = session.get_bind().dialect.name
        statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(inbox)
        claimed = await session.execute(
            statement.values(event_id=event.id, consumer=self.name, type=event.type,
                             handled_at=utcnow())
            .on_conflict_do_nothing(index_elements=[inbox.c.event_id, inbox.c.consumer])
        )
        if claimed.rowcount == 0:
            return False
        await handler(session, event)
        return True

    async def dead_letter(self, event: Event, exc: Exception, attempts: int) -> None:
        async with self.database.session() as session:
            await session.execute(
                insert(_TABLES.dead_letters).values(
                    id=uuid.uuid4(),
                    event_id=event.id,
                    consumer=self.name,
                    type=event.type,
                    payload=event.model_dump(mode="json"),
                    error=f"{type(exc).__name__}: {exc}"[:4000],
                    attempts=attempts,
                    created_at=utcnow(),
                )
            )
