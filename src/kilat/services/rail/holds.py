"""Seat holds: all or nothing, one deadline for the database and the lock store, released or
extended only by the holder, lapsing on their own."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.db import Database, after_commit
from kilat.platform.errors import BadRequest, Conflict, Unprocessable, not_found
from kilat.services.rail import domain
from kilat.services.rail.context import RailContext
from kilat.services.rail.models import Journey, SeatHold
from kilat.services.rail.repository import Claims, Timetable
from kilat.services.rail.schemas import HoldCreate
from kilat.services.rail.timetable import DHAKA

TAKEN = "seats are taken"
SNAPSHOT_SECONDS = 10.0


def taken_detail(seat_ids: list[uuid.UUID]) -> str:
    return "taken seat_ids: " + ",".join(str(s) for s in seat_ids)


class HoldService:
    def __init__(self, session: AsyncSession, context: RailContext) -> None:
        self.session = session
        self.context = context
        self.settings = context.settings
        self.claims = Claims(session)
        self.timetable = Timetable(session)

    def forget_searches(self, journey: Journey) -> None:
        after_commit(self.session, lambda: self.context.cache.forget(journey.journey_date))

    async def snapshot(self, journey_id: uuid.UUID) -> JourneySnapshot:
        journey = await self.timetable.get(journey_id)
        if journey is None:
            raise not_found("journey", journey_id)
        seats = frozenset(seat.id for seat, _ in await self.timetable.layout(journey.train_id))
        return JourneySnapshot(journey.id, journey.journey_date, journey.departure_at,
                               journey.status, seats)

    async def claim(self, hold: SeatHold, journey: JourneySnapshot, now: datetime) -> None:
        """Every seat's claim row or none (the primary key decides); 409 naming the taken seats."""
        seats = seat_ids(hold)
        if (await self.timetable.get_or_404(journey.id)).status != "scheduled":
            raise Unprocessable("journey is cancelled")
        try:
            async with self.session.begin_nested():
                await self.claims.drop_lapsed(journey.id, seats, now)
                await self.claims.add([
                    {"journey_id": journey.id, "seat_id": seat_id, "hold_id": hold.id,
                     "state": "held", "expires_at": hold.expires_at} for seat_id in seats])
                self.session.add(hold)
                await self.session.flush()
        except IntegrityError:
            held = await self.claims.of_seats(journey.id, seats)
            raise Conflict(TAKEN, taken_detail([c.seat_id for c in held])) from None
        after_commit(self.session, lambda: self.context.cache.forget(journey.journey_date))

    async def own_hold(self, user: Principal, hold_id: uuid.UUID) -> SeatHold:
        hold = await self.claims.get(hold_id, for_update=self.claims.is_postgres)
        if hold is None or hold.user_id != user.user_id:
            raise not_found("hold", hold_id)
        return hold

    async def release(self, user: Principal, hold_id: uuid.UUID, now: datetime) -> None:
        hold = await self.own_hold(user, hold_id)
        if hold.booking_id is not None:
            raise Conflict("hold belongs to a booking", "cancel the booking instead")
        if hold.status != domain.HoldStatus.ACTIVE:
            raise Conflict(f"hold is {hold.status}")
        await self.claims.drop_held(hold.id)
        hold.status = domain.HoldStatus.RELEASED
        await self.session.flush()
        await self.context.locks.release(hold.journey_id, seat_ids(hold), str(hold.id))
        self.forget_searches(await self.timetable.get_or_404(hold.journey_id))

    async def extend(self, user: Principal, hold_id: uuid.UUID, now: datetime) -> SeatHold:
        hold = await self.own_hold(user, hold_id)
        if hold.status != domain.HoldStatus.ACTIVE or hold.expires_at <= now:
            raise Conflict("hold has expired" if hold.status == domain.HoldStatus.ACTIVE
                           else f"hold is {hold.status}")
        if hold.extensions >= self.settings.hold_max_extensions:
            raise Conflict("hold cannot be extended again",
                           f"at most {self.settings.hold_max_extensions} extensions")
        deadline = domain.extended_deadline(hold.expires_at, self.settings.hold_seconds)
        await self.move_deadline(hold, deadline)
        hold.extensions += 1
        await self.session.flush()
        return hold

    async def move_deadline(self, hold: SeatHold, deadline: datetime) -> None:
        """The one deadline, moved in the lock store and the database alike (holder only)."""
        seats = seat_ids(hold)
        if await self.claims.move_deadline(hold.id, deadline) != len(seats):
            raise Conflict("hold has expired")
        if not await self.context.locks.extend(hold.journey_id, seats, str(hold.id), deadline):
            raise Conflict("hold has expired", "another holder has the seats now")
        hold.expires_at = deadline


def seat_ids(hold: SeatHold) -> list[uuid.UUID]:
    return [uuid.UUID(s) for s in hold.seat_ids]


@dataclass(frozen=True)
class JourneySnapshot:
    """What a hold request is checked against before it may write: kept for a short while in
    the process, so the contenders that cannot win never reach the database."""

    id: uuid.UUID
    journey_date: date
    departure_at: datetime
    status: str
    seats: frozenset[uuid.UUID]


class JourneySnapshots:
    """Journey snapshots for ``ttl`` seconds, loaded once however many requests want one."""

    def __init__(self, ttl: float = SNAPSHOT_SECONDS, max_entries: int = 1024) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._kept: dict[uuid.UUID, tuple[float, JourneySnapshot]] = {}
        self._loading: dict[uuid.UUID, asyncio.Task] = {}

    async def get(self, database: Database, context: RailContext,
                  journey_id: uuid.UUID) -> JourneySnapshot:
        kept = self._kept.get(journey_id)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        task = self._loading.get(journey_id)
        if task is None:
            task = asyncio.create_task(self._load(database, context, journey_id))
            self._loading[journey_id] = task
            task.add_done_callback(lambda _t: self._loading.pop(journey_id, None))
        return await asyncio.shield(task)

    async def _load(self, database: Database, context: RailContext,
                    journey_id: uuid.UUID) -> JourneySnapshot:
        async with database.session(write=False) as session:
            snapshot = await HoldService(session, context).snapshot(journey_id)
        if len(self._kept) >= self.max_entries:
            self._kept.clear()
        self._kept[journey_id] = (time.monotonic() + self.ttl, snapshot)
        return snapshot


def check_request(snapshot: JourneySnapshot, body: HoldCreate, settings, now: datetime) -> None:
    why = domain.check_seat_request(body.seat_ids, settings.max_seats_per_booking)
    if why is not None:
        raise BadRequest(why)
    if snapshot.status != "scheduled":
        raise Unprocessable("journey is cancelled")
    why = domain.on_sale(snapshot.journey_date, snapshot.departure_at,
                         now.astimezone(DHAKA).date(), now, settings.sales_open_days)
    if why is not None:
        raise Unprocessable("journey is not on sale", why)
    if not snapshot.seats.issuperset(body.seat_ids):
        raise BadRequest("a seat is not on this journey's train")


async def place_hold(database: Database, context: RailContext, user: Principal, body: HoldCreate,
                     now: datetime) -> SeatHold:
    """Hold every seat or none. The checks read; the lock store turns away the hopeless at once;
    only a request that got every lock writes, and the database has the last word."""
    journey = await context.journeys.get(database, context, body.journey_id)
    check_request(journey, body, context.settings, now)
    hold = SeatHold(id=uuid.uuid4(), journey_id=journey.id, user_id=user.user_id,
                    seat_ids=[str(s) for s in body.seat_ids], status=domain.HoldStatus.ACTIVE,
                    extensions=0, version=1,
                    expires_at=now + timedelta(seconds=context.settings.hold_seconds))
    token = str(hold.id)
    taken = await context.locks.acquire(journey.id, body.seat_ids, token, hold.expires_at)
    if taken:
        raise Conflict(TAKEN, taken_detail(taken))
    try:
        async with database.session() as session:
            await HoldService(session, context).claim(hold, journey, now)
    except BaseException:
        await context.locks.release(journey.id, body.seat_ids, token)
        raise
    return hold
