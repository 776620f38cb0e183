"""Operator routes to list a service's dead-lettered events and replay them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import MetaData, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import RequireRole
from kilat.platform.errors import Conflict, Unprocessable, not_found
from kilat.platform.events.consumer import EventConsumer
from kilat.platform.events.envelope import Event
from kilat.platform.events.tables import event_tables
from kilat.platform.http import Session
from kilat.platform.models import utcnow
from kilat.platform.schemas import (
    Envelope,
    Page,
    PageParams,
    Paging,
    Schema,
    error_responses,
    ok,
    page_of,
)

_TABLES = event_tables(MetaData())
_DEAD = _TABLES.dead_letters

ReplayedFilter = Annotated[
    bool | None, Query(description="only replayed (true) or still pending (false) letters")
]


class DeadLetter(Schema):
    id: uuid.UUID
    event_id: uuid.UUID
    consumer: str
    type: str
    error: str
    attempts: int
    created_at: datetime
    replayed_at: datetime | None
    payload: dict[str, Any]


class ReplayResult(Schema):
    id: uuid.UUID
    event_id: uuid.UUID
    type: str
    replayed_at: datetime
    applied: bool  # False when the event had been handled meanwhile, so nothing ran again


def dead_letter_router(service_name: str) -> APIRouter:
    """Admin routes under ``/api/v1/admin/events/<service>/dead-letters`` for one service app."""
    router = APIRouter(prefix=f"/api/v1/admin/events/{service_name}/dead-letters",
                       tags=["admin: events"])

    @router.get("", response_model=Page[DeadLetter], responses=error_responses(400, 401, 403))
    async def list_dead_letters(
        request: Request,
        session: Session,
        paging: Paging,
        _admin: RequireRole("admin"),
        replayed: ReplayedFilter = None,
    ) -> dict:
        consumer: EventConsumer | None = request.app.state.runtime.consumer
        if consumer is None:
            return page_of([], 0, paging)
        rows, total = await _dead_letters(session, consumer.name, replayed, paging)
        return page_of([DeadLetter.model_validate(row) for row in rows], total, paging)

    @router.post("/{dead_letter_id}/replay", response_model=Envelope[ReplayResult],
                 responses=error_responses(400, 401, 403, 404, 409, 422))
    async def replay_dead_letter(
        dead_letter_id: uuid.UUID, request: Request, session: Session, _admin: RequireRole("admin")
    ) -> dict:
        consumer: EventConsumer | None = request.app.state.runtime.consumer
        if consumer is None:
            raise not_found("Dead letter", dead_letter_id)
        return ok(await replay(session, consumer, dead_letter_id))

    return router


async def _dead_letters(session: AsyncSession, consumer: str, replayed: bool | None,
                        paging: PageParams) -> tuple[list, int]:
    condition = _DEAD.c.consumer == consumer
    if replayed is not None:
        condition &= _DEAD.c.replayed_at.is_not(None) if replayed else _DEAD.c.replayed_at.is_(None)
    total = await session.scalar(select(func.count()).select_from(_DEAD).where(condition))
    rows = (await session.execute(
        select(_DEAD).where(condition)
        .order_by(_DEAD.c.created_at.desc(), _DEAD.c.id.desc())
        .offset(paging.offset).limit(paging.limit)
    )).all()
    return rows, total or 0


async def replay(session: AsyncSession, consumer: EventConsumer,
                 dead_letter_id: uuid.UUID) -> ReplayResult:
    """Run a parked event's handler again, in the caller's transaction with the replayed mark.

    The mark is claimed first, so of two concurrent replays one wins and the other gets 409; a
    handler that fails again rolls everything back and leaves the dead letter pending.
    """
    row = (await session.execute(
        select(_DEAD).where(_DEAD.c.id == dead_letter_id, _DEAD.c.consumer == consumer.name)
    )).first()
    if row is None:
        raise not_found("Dead letter", dead_letter_id)
    replayed_at = utcnow()
    claimed = await session.execute(
        update(_DEAD).where(_DEAD.c.id == dead_letter_id, _DEAD.c.replayed_at.is_(None))
        .values(replayed_at=replayed_at)
    )
    if claimed.rowcount != 1:
        raise Conflict("dead letter already replayed", f"dead letter '{dead_letter_id}'")
    event = Event.model_validate(row.payload)
    applied = await _apply(session, consumer, event)
    return ReplayResult(id=row.id, event_id=row.event_id, type=row.type,
                        replayed_at=replayed_at, applied=applied)


async def _apply(session: AsyncSession, consumer: EventConsumer, event: Event) -> bool:
    handler = consumer.handler_for(event.type)
    if handler is None:
        return False
    try:
        return await consumer.apply(session, event, handler)
    except Exception as exc:
        raise Unprocessable("replay failed", f"{type(exc).__name__}: {exc}"[:500]) from exc
