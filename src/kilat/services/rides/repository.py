"""All rides queries. State changes that race (accept, confirm, start, arrive, pay, cancel) are
guarded updates: ``UPDATE ... WHERE status = <expected>``, whose row count says who won."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update

from kilat.platform.repository import Repository
from kilat.services.rides.domain import OfferStatus, RequestStatus
from kilat.services.rides.models import Driver, Fix, Frame, Match, Offer, Ride, RideRequest


FRESH = {"populate_existing": True}  # rows changed by a guarded update are read as they are now


class Drivers(Repository[Driver]):
    model, entity = Driver, "driver"

    async def recently_available(self, since: datetime) -> list[Driver]:
        return list(await self.session.scalars(select(Driver).where(
            Driver.available.is_(True), Driver.beacon_at >= since)))


class Requests(Repository[RideRequest]):
    model, entity = RideRequest, "ride request"

    async def move(self, request_id: uuid.UUID, expected: Iterable[str], now: datetime,
                   **values: Any) -> bool:
        """Change the request only if it is still in one of ``expected``; True when it was."""
        statement = (update(RideRequest)
                     .where(RideRequest.id == request_id, RideRequest.status.in_(list(expected)))
                     .values(updated_at=now, **values))
        return await self.update_rows(statement) == 1

    async def lock(self, request_id: uuid.UUID) -> RideRequest | None:
        return await self.get(request_id, for_update=self.is_postgres)

    async def schedule(self, request_ids: list[uuid.UUID], at: datetime) -> None:
        """Bring the deadlines of searching requests forward to ``at``."""
        await self.update_rows(update(RideRequest).where(
            RideRequest.id.in_(request_ids), RideRequest.status == RequestStatus.SEARCHING,
            or_(RideRequest.deadline_at.is_(None), RideRequest.deadline_at > at))
            .values(deadline_at=at))

    async def claim_due(self, now: datetime, limit: int) -> list[RideRequest]:
        """Requests whose deadline has come, locked for this worker (others skip them)."""
        query = (select(RideRequest).where(RideRequest.deadline_at <= now)
                 .order_by(RideRequest.deadline_at).limit(limit))
        if self.is_postgres:
            query = query.with_for_update(skip_locked=True)
        return list(await self.session.scalars(query.execution_options(**FRESH)))

    async def next_deadline(self) -> datetime | None:
        return await self.session.scalar(select(func.min(RideRequest.deadline_at)))


class Offers(Repository[Offer]):
    model, entity = Offer, "offer"

    async def of_request(self, request_id: uuid.UUID) -> list[Offer]:
        return list(await self.session.scalars(
            select(Offer).where(Offer.request_id == request_id).order_by(Offer.created_at)
            .execution_options(**FRESH)))

    async def pending_for(self, driver_id: uuid.UUID, now: datetime) -> list[Offer]:
        return list(await self.session.scalars(
            select(Offer).where(Offer.driver_id == driver_id,
                                Offer.status == OfferStatus.PENDING, Offer.expires_at > now)
            .order_by(Offer.distance_km, Offer.created_at).execution_options(**FRESH)))

    async def accept(self, offer_id: uuid.UUID, driver_id: uuid.UUID, now: datetime) -> bool:
        statement = (update(Offer).where(Offer.id == offer_id, Offer.driver_id == driver_id,
                                         Offer.status == OfferStatus.PENDING,
                                         Offer.expires_at > now)
                     .values(status=OfferStatus.ACCEPTED, responded_at=now, updated_at=now))
        return await self.update_rows(statement) == 1

    async def reject(self, offer_id: uuid.UUID, driver_id: uuid.UUID, now: datetime) -> bool:
        statement = (update(Offer).where(Offer.id == offer_id, Offer.driver_id == driver_id,
                                         Offer.status == OfferStatus.PENDING)
                     .values(status=OfferStatus.REJECTED, responded_at=now, updated_at=now))
        return await self.update_rows(statement) == 1

    async def close_pending(self, status: OfferStatus, now: datetime, *,
                            request_id: uuid.UUID | None = None,
                            driver_id: uuid.UUID | None = None,
                            expired_only: bool = False) -> list[Offer]:
        """Close the pending offers of a request or of a driver; returns those it closed."""
        query = select(Offer).where(Offer.status == OfferStatus.PENDING)
        if request_id is not None:
            query = query.where(Offer.request_id == request_id)
        if driver_id is not None:
            query = query.where(Offer.driver_id == driver_id)
        if expired_only:
            query = query.where(Offer.expires_at <= now)
        offers = list(await self.session.scalars(query.execution_options(**FRESH)))
        if offers:
            await self.update_rows(update(Offer).where(
                Offer.id.in_([o.id for o in offers]), Offer.status == OfferStatus.PENDING)
                .values(status=status, responded_at=now, updated_at=now))
        return offers


class Matches(Repository[Match]):
    model, entity = Match, "match"

    async def busy(self, driver_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``driver_ids`` are committed to a passenger now."""
        if not driver_ids:
            return set()
        rows = await self.session.scalars(select(Match.driver_id).where(
            Match.driver_id.in_(driver_ids), Match.active.is_(True)))
        return set(rows)

    async def active_of(self, driver_id: uuid.UUID) -> Match | None:
        return await self.session.scalar(select(Match).where(
            Match.driver_id == driver_id, Match.active.is_(True)))

    async def release(self, match_id: uuid.UUID, now: datetime) -> bool:
        statement = (update(Match).where(Match.id == match_id, Match.active.is_(True))
                     .values(active=False, released_at=now, updated_at=now))
        return await self.update_rows(statement) == 1


class Rides(Repository[Ride]):
    model, entity = Ride, "ride"

    async def move(self, ride_id: uuid.UUID, expected: Iterable[str], now: datetime,
                   **values: Any) -> bool:
        statement = (update(Ride).where(Ride.id == ride_id, Ride.status.in_(list(expected)))
                     .values(updated_at=now, **values))
        return await self.update_rows(statement) == 1

    async def by_charge(self, charge_id: uuid.UUID) -> Ride | None:
        return await self.session.scalar(select(Ride).where(Ride.charge_id == charge_id)
                                         .execution_options(**FRESH))

    def of_user(self, user_id: uuid.UUID, role: str | None, status: str | None) -> Select:
        if role == "driver":
            who = Ride.driver_id == user_id
        elif role == "passenger":
            who = Ride.passenger_id == user_id
        else:
            who = or_(Ride.driver_id == user_id, Ride.passenger_id == user_id)
        query = select(Ride).where(who).order_by(Ride.created_at.desc(), Ride.id)
        return query if status is None else query.where(Ride.status == status)

    async def add_fix(self, values: dict[str, Any]) -> bool:
        """Store a fix once: False when the same (ride, party, recorded_at) is already there."""
        statement = (self.insert(Fix).values(**values)
                     .on_conflict_do_nothing(index_elements=["ride_id", "party", "recorded_at"]))
        return (await self.session.execute(statement)).rowcount == 1


class Frames(Repository[Frame]):
    model, entity = Frame, "frame"

    async def add_many(self, frames: list[tuple[uuid.UUID, str, dict[str, Any]]],
                       now: datetime) -> list[Frame]:
        rows = [Frame(user_id=user_id, event=event, data=data, created_at=now)
                for user_id, event, data in frames]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def since(self, user_id: uuid.UUID, seq: int, limit: int) -> list[Frame]:
        return list(await self.session.scalars(
            select(Frame).where(Frame.user_id == user_id, Frame.seq > seq)
            .order_by(Frame.seq).limit(limit)))

    async def latest_seq(self, user_id: uuid.UUID) -> int:
        return int(await self.session.scalar(
            select(func.coalesce(func.max(Frame.seq), 0)).where(Frame.user_id == user_id)) or 0)

    async def forget_before(self, cutoff: datetime) -> int:
        return await self.update_rows(delete(Frame).where(Frame.created_at < cutoff))

