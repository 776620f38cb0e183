"""All tracking queries."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, or_, select, text, update

from kilat.platform.repository import Repository
from kilat.services.tracking.domain import TripStatus
from kilat.services.tracking.models import (
    BookingOwner,
    ChatMessage,
    ChatRead,
    SharedTrip,
    Trip,
    waypoints,
)

PARTITION_NAME = re.compile(r"^trip_waypoints_p(\d{8})$")
PARTITION_LOCK = 7_220_415  # advisory lock key: one instance changes partitions at a time


class Trips(Repository[Trip]):
    model = Trip

    async def latest_for_booking(self, booking_id: uuid.UUID) -> Trip | None:
        return await self.session.scalar(
            select(Trip).where(Trip.booking_id == booking_id)
            .order_by(Trip.started_at.desc(), Trip.created_at.desc()).limit(1)
        )

    async def active_for_booking(self, booking_id: uuid.UUID) -> Trip | None:
        return await self.session.scalar(
            select(Trip).where(Trip.booking_id == booking_id, Trip.status == TripStatus.ACTIVE)
        )

    async def by_ids(self, trip_ids: list[uuid.UUID]) -> list[Trip]:
        if not trip_ids:
            return []
        return list(await self.session.scalars(select(Trip).where(Trip.id.in_(trip_ids))))

    async def all_active(self) -> list[Trip]:
        return list(await self.session.scalars(select(Trip).where(Trip.status == TripStatus.ACTIVE)))

    async def active_for_runner(self, runner_id: uuid.UUID) -> Trip | None:
        return await self.session.scalar(
            select(Trip).where(Trip.runner_id == runner_id, Trip.status == TripStatus.ACTIVE)
            .order_by(Trip.started_at.desc()).limit(1)
        )

    async def by_acceptance(self, booking_id: uuid.UUID, runner_id: uuid.UUID,
                            accepted_at: datetime) -> Trip | None:
        return await self.session.scalar(
            select(Trip).where(Trip.booking_id == booking_id, Trip.runner_id == runner_id,
                               Trip.accepted_at == accepted_at)
        )

    async def record_positions(self, latest: list[dict]) -> None:
        """Move each trip's last known position forward (never back: instances flush late)."""
        if not latest:
            return
        table = Trip.__table__
        statement = (
            update(table)
            .where(table.c.id == bindparam("t_id"),
                   or_(table.c.last_recorded_at.is_(None),
                       table.c.last_recorded_at < bindparam("t_at")))
            .values(last_latitude=bindparam("t_lat"), last_longitude=bindparam("t_lng"),
                    last_speed_kmh=bindparam("t_speed"), last_heading_degrees=bindparam("t_heading"),
                    last_recorded_at=bindparam("t_at"))
        )
        params = [{"t_id": row["trip_id"], "t_at": row["recorded_at"], "t_lat": row["latitude"],
                   "t_lng": row["longitude"], "t_speed": row["speed_kmh"],
                   "t_heading": row["heading_degrees"]} for row in latest]
        await self.session.execute(statement, params)

    async def claim_update_events(self, trip_ids: list[uuid.UUID], now: datetime,
                                  interval: timedelta, limit: int) -> dict[uuid.UUID, uuid.UUID]:
        """Up to ``limit`` trips due a ``tracking.updated`` event, longest waiting first
        (id → owner). The claim is atomic across instances: a trip is claimed once."""
        if not trip_ids:
            return {}
        table = Trip.__table__
        due = (table.c.status == TripStatus.ACTIVE,
               or_(table.c.last_update_event_at.is_(None),
                   table.c.last_update_event_at <= now - interval))
        oldest_first = (
            select(table.c.id).where(table.c.id.in_(trip_ids), *due)
            .order_by(table.c.last_update_event_at.is_not(None), table.c.last_update_event_at)
            .limit(limit)
        )
        result = await self.session.execute(
            update(table).where(table.c.id.in_(oldest_first.scalar_subquery()), *due)
            .values(last_update_event_at=now)
            .returning(table.c.id, table.c.owner_id)
            .execution_options(synchronize_session=False)
        )
        return {row.id: row.owner_id for row in result}


class BookingOwners(Repository):
    async def remember(self, booking_id: uuid.UUID, owner_id: uuid.UUID, at: datetime) -> None:
        await self.session.execute(
            self.insert(BookingOwner).values(booking_id=booking_id, owner_id=owner_id,
                                              requested_at=at).on_conflict_do_nothing())

    async def owner_of(self, booking_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(
            select(BookingOwner.owner_id).where(BookingOwner.booking_id == booking_id))


class Waypoints(Repository):
    async def insert_many(self, rows: list[dict]) -> None:
        """Store pings once: every instance writes the pings it saw, duplicates are skipped."""
        if rows:
            await self.session.execute(self.insert(waypoints).on_conflict_do_nothing(), rows)

    def _of_trip(self, trip: Trip, since: timedelta):
        # the lower bound on recorded_at lets PostgreSQL skip the partitions before the trip
        return (waypoints.c.trip_id == trip.id, waypoints.c.recorded_at >= trip.started_at - since)

    async def count(self, trip: Trip, since: timedelta) -> int:
        return await self.session.scalar(
            select(func.count()).select_from(waypoints).where(*self._of_trip(trip, since))
        ) or 0

    async def last(self, trip: Trip, since: timedelta, limit: int) -> list:
        rows = await self.session.execute(
            select(waypoints).where(*self._of_trip(trip, since))
            .order_by(waypoints.c.recorded_at.desc()).limit(limit)
        )
        return list(reversed(rows.all()))

    async def latest(self, trip: Trip, since: timedelta):
        return (await self.session.execute(
            select(waypoints).where(*self._of_trip(trip, since))
            .order_by(waypoints.c.recorded_at.desc()).limit(1)
        )).first()

    async def latest_of(self, trip_ids: list[uuid.UUID], since: datetime) -> dict[uuid.UUID, Any]:
        """The newest waypoint of each trip recorded after ``since``, in one query."""
        newest = (
            select(waypoints.c.trip_id, func.max(waypoints.c.recorded_at).label("at"))
            .where(waypoints.c.trip_id.in_(trip_ids), waypoints.c.recorded_at >= since)
            .group_by(waypoints.c.trip_id).subquery()
        )
        rows = await self.session.execute(
            select(waypoints).join(newest, (waypoints.c.trip_id == newest.c.trip_id)
                                   & (waypoints.c.recorded_at == newest.c.at))
            .where(waypoints.c.recorded_at >= since)
        )
        return {row.trip_id: row for row in rows}

    async def path(self, trip: Trip, since: timedelta) -> list[tuple[float, float]]:
        rows = await self.session.execute(
            select(waypoints.c.latitude, waypoints.c.longitude).where(*self._of_trip(trip, since))
            .order_by(waypoints.c.recorded_at)
        )
        return [(row.latitude, row.longitude) for row in rows]

    async def delete_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            waypoints.delete().where(waypoints.c.recorded_at < cutoff)
        )
        return result.rowcount


class WaypointPartitions(Repository):
    """PostgreSQL day partitions of ``trip_waypoints``: ``trip_waypoints_pYYYYMMDD``."""

    async def lock(self) -> None:
        await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PARTITION_LOCK})

    async def days(self) -> set[date]:
        rows = await self.session.execute(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'trip_waypoints'"
        ))
        found = set()
        for (name,) in rows:
            match = PARTITION_NAME.match(name)
            if match:
                found.add(datetime.strptime(match.group(1), "%Y%m%d").date())
        return found

    async def create(self, day: date) -> None:
        nxt = day + timedelta(days=1)
        await self.session.execute(text(
            f"CREATE TABLE IF NOT EXISTS trip_waypoints_p{day:%Y%m%d} PARTITION OF trip_waypoints "
            f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') TO ('{nxt.isoformat()} 00:00:00+00')"
        ))

    async def drop(self, day: date) -> None:
        await self.session.execute(text(f"DROP TABLE IF EXISTS trip_waypoints_p{day:%Y%m%d}"))


class ChatMessages(Repository):
    async def page(self, booking_id: uuid.UUID, offset: int,
                   limit: int) -> tuple[list[ChatMessage], int]:
        where = ChatMessage.booking_id == booking_id
        total = await self.session.scalar(select(func.count()).select_from(ChatMessage).where(where))
        rows = await self.session.scalars(
            select(ChatMessage).where(where)
            .order_by(ChatMessage.created_at, ChatMessage.id).offset(offset).limit(limit)
        )
        return list(rows), total or 0

    async def unread(self, booking_id: uuid.UUID, user_id: uuid.UUID, since: datetime | None) -> int:
        query = select(func.count()).select_from(ChatMessage).where(
            ChatMessage.booking_id == booking_id, ChatMessage.sender_id != user_id
        )
        if since is not None:
            query = query.where(ChatMessage.created_at > since)
        return await self.session.scalar(query) or 0

    async def newest_at(self, booking_id: uuid.UUID) -> datetime | None:
        return await self.session.scalar(
            select(func.max(ChatMessage.created_at)).where(ChatMessage.booking_id == booking_id)
        )


class ChatReads(Repository):
    async def last_read_at(self, booking_id: uuid.UUID, user_id: uuid.UUID) -> datetime | None:
        read = await self.session.get(ChatRead, (booking_id, user_id))
        return None if read is None else read.last_read_at

    async def mark(self, booking_id: uuid.UUID, user_id: uuid.UUID, at: datetime) -> None:
        table = ChatRead.__table__
        statement = self.insert(table).values(booking_id=booking_id, user_id=user_id, last_read_at=at)
        await self.session.execute(statement.on_conflict_do_update(
            index_elements=[table.c.booking_id, table.c.user_id],
            set_={"last_read_at": func.max(table.c.last_read_at, statement.excluded.last_read_at)
                  if self.dialect == "sqlite"
                  else func.greatest(table.c.last_read_at, statement.excluded.last_read_at)},
        ))


class Shares(Repository[SharedTrip]):
    model = SharedTrip

    async def by_token_hash(self, token_hash: str) -> SharedTrip | None:
        return await self.session.scalar(select(SharedTrip).where(SharedTrip.token_hash == token_hash))

    async def for_booking(self, booking_id: uuid.UUID) -> list[SharedTrip]:
        rows = await self.session.scalars(
            select(SharedTrip).where(SharedTrip.booking_id == booking_id)
            .order_by(SharedTrip.created_at.desc())
        )
        return list(rows)

    async def count_live(self, booking_id: uuid.UUID, now: datetime) -> int:
        return await self.session.scalar(
            select(func.count()).select_from(SharedTrip).where(
                SharedTrip.booking_id == booking_id, SharedTrip.revoked_at.is_(None),
                SharedTrip.expires_at > now)
        ) or 0
