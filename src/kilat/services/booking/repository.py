"""All booking queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, exists, func, or_, select

from kilat.platform.repository import Repository
from kilat.platform.geo import distance_km_expr, within_radius
from kilat.platform.schemas import PageParams
from kilat.services.booking.domain import BookingStatus
from kilat.services.booking.models import Booking, DeclineRecord, Pet, Photo, StatusChange


@dataclass(frozen=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True)
class BookingFilter:
    statuses: frozenset[BookingStatus] | None = None
    owner_id: uuid.UUID | None = None
    runner_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    near: Near | None = None


# Built once: a statement object keeps its cache key, which SQLAlchemy otherwise recomputes
# on every execution (a fifth of an owner's read).
_BY_ID = select(Booking).where(Booking.id == bindparam("booking_id")).execution_options(
    populate_existing=True)
_BY_ID_FOR_UPDATE = _BY_ID.with_for_update()
_VIEW_BY_ID = select(*Booking.__table__.c).where(Booking.__table__.c.id == bindparam("booking_id"))


class BookingRepository(Repository[Booking]):
    model, entity = Booking, "booking"

    async def get(self, booking_id: uuid.UUID, *, for_update: bool = False) -> Booking | None:
        query = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        return await self.session.scalar(query, {"booking_id": booking_id})

    async def view(self, booking_id: uuid.UUID) -> Row | None:
        """The booking's columns for a read that changes nothing: no mapped instance to build."""
        return (await self.session.execute(_VIEW_BY_ID, {"booking_id": booking_id})).first()

    async def number_taken(self, number: str) -> bool:
        found = await self.session.scalar(
            select(Booking.id).where(Booking.booking_number == number))
        return found is not None

    def _filtered(self, query: Select, spec: BookingFilter) -> Select:
        conditions: list[ColumnElement[bool]] = []
        if spec.statuses is not None:
            conditions.append(Booking.status.in_(sorted(spec.statuses)))
        if spec.owner_id is not None:
            conditions.append(Booking.owner_id == spec.owner_id)
        if spec.runner_id is not None:
            conditions.append(Booking.runner_id == spec.runner_id)
        if spec.created_from is not None:
            conditions.append(Booking.created_at >= spec.created_from)
        if spec.created_to is not None:
            conditions.append(Booking.created_at <= spec.created_to)
        if spec.near is not None:
            near = spec.near
            conditions.append(within_radius(
                self.dialect, Booking.pickup_lat, Booking.pickup_lng, near.latitude,
                near.longitude, near.radius_km, point_column="bookings.pickup_point"))
        return query.where(*conditions)

    def _ordered(self, query: Select, spec: BookingFilter) -> Select:
        if spec.near is not None:
            distance = distance_km_expr(Booking.pickup_lat, Booking.pickup_lng,
                                        spec.near.latitude, spec.near.longitude)
            return query.order_by(distance, Booking.created_at.desc(), Booking.id)
        return query.order_by(Booking.created_at.desc(), Booking.id)

    async def search(self, spec: BookingFilter, paging: PageParams,
                     scope: ColumnElement[bool] | None = None) -> tuple[list[Booking], int]:
        query = self._filtered(select(Booking), spec)
        if scope is not None:
            query = query.where(scope)
        return await self.paginate(self._ordered(query, spec), paging)

    @staticmethod
    def owned_by(owner_id: uuid.UUID) -> ColumnElement[bool]:
        return Booking.owner_id == owner_id

    @staticmethod
    def runner_jobs(runner_id: uuid.UUID) -> ColumnElement[bool]:
        """The runner's own bookings plus open ones it has not declined."""
        declined = exists().where(DeclineRecord.booking_id == Booking.id,
                                  DeclineRecord.runner_id == runner_id)
        open_job = and_(Booking.status == BookingStatus.REQUESTED, Booking.runner_id.is_(None),
                        ~declined)
        return or_(Booking.runner_id == runner_id, open_job)

    async def count_by_status(self) -> dict[BookingStatus, int]:
        rows = await self.session.execute(
            select(Booking.status, func.count()).group_by(Booking.status))
        return {BookingStatus(status): count for status, count in rows.all()}

    async def history(self, booking_id: uuid.UUID) -> list[StatusChange]:
        rows = await self.session.scalars(
            select(StatusChange).where(StatusChange.booking_id == booking_id)
            .order_by(StatusChange.sequence))
        return list(rows)

    async def next_sequence(self, booking_id: uuid.UUID) -> int:
        last = await self.session.scalar(
            select(func.max(StatusChange.sequence)).where(StatusChange.booking_id == booking_id))
        return (last or 0) + 1

    async def photos(self, booking_id: uuid.UUID) -> list[Photo]:
        rows = await self.session.scalars(
            select(Photo).where(Photo.booking_id == booking_id)
            .order_by(Photo.taken_at, Photo.created_at, Photo.id))
        return list(rows)


class PetRepository(Repository[Pet]):
    model, entity = Pet, "pet"

    async def active_of(self, owner_id: uuid.UUID) -> list[Pet]:
        rows = await self.session.scalars(
            select(Pet).where(Pet.owner_id == owner_id, Pet.status == "active")
            .order_by(Pet.created_at, Pet.id))
        return list(rows)
