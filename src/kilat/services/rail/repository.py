"""All rail queries."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from kilat.platform.repository import Repository
from kilat.services.rail.models import (
    Booking,
    BookingLine,
    Coach,
    DailyStat,
    Journey,
    Route,
    RouteStop,
    Schedule,
    Seat,
    SeatClaim,
    SeatHold,
    Station,
    StatFact,
    StatUser,
    Ticket,
    Train,
)


class Timetable(Repository[Journey]):
    model, entity = Journey, "journey"

    async def station_by_code(self, code: str) -> Station | None:
        return await self.session.scalar(select(Station).where(Station.code == code))

    async def stations(self) -> list[Station]:
        return list(await self.session.scalars(select(Station).order_by(Station.code)))

    async def stations_by_id(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Station]:
        rows = await self.session.scalars(select(Station).where(Station.id.in_(ids)))
        return {s.id: s for s in rows}

    async def train_by_number(self, number: str) -> Train | None:
        return await self.session.scalar(select(Train).where(Train.number == number))

    async def trains(self) -> list[Train]:
        return list(await self.session.scalars(select(Train).order_by(Train.number)))

    async def coaches(self, train_id: uuid.UUID) -> list[tuple[Coach, int]]:
        seats = (select(Seat.coach_id, func.count(Seat.id).label("n"))
                 .group_by(Seat.coach_id).subquery())
        rows = await self.session.execute(
            select(Coach, func.coalesce(seats.c.n, 0))
            .outerjoin(seats, seats.c.coach_id == Coach.id)
            .where(Coach.train_id == train_id).order_by(Coach.code))
        return [(coach, int(n)) for coach, n in rows]

    async def route_by_code(self, code: str) -> Route | None:
        return await self.session.scalar(select(Route).where(Route.code == code))

    async def routes(self) -> list[Route]:
        return list(await self.session.scalars(select(Route).order_by(Route.code)))

    async def stops(self, route_ids: set[uuid.UUID]) -> list[tuple[RouteStop, Station]]:
        rows = await self.session.execute(
            select(RouteStop, Station).join(Station, Station.id == RouteStop.station_id)
            .where(RouteStop.route_id.in_(route_ids))
            .order_by(RouteStop.route_id, RouteStop.stop_order))
        return [(stop, station) for stop, station in rows]

    async def schedules(self) -> list[Schedule]:
        return list(await self.session.scalars(select(Schedule).order_by(Schedule.departure_time)))

    async def journey_of(self, train_id: uuid.UUID, day: date) -> Journey | None:
        return await self.session.scalar(select(Journey).where(
            Journey.train_id == train_id, Journey.journey_date == day))

    async def journeys_between(self, start: date, end: date) -> list[Journey]:
        return list(await self.session.scalars(
            select(Journey).where(Journey.journey_date >= start, Journey.journey_date <= end)
            .order_by(Journey.journey_date, Journey.departure_at)))

    async def journeys_on(self, day: date, station_ids: tuple[uuid.UUID, uuid.UUID]
                          ) -> list[tuple[Journey, Train]]:
        """Scheduled journeys of ``day`` whose route calls at both stations."""
        calling = (select(RouteStop.route_id).where(RouteStop.station_id.in_(station_ids))
                   .group_by(RouteStop.route_id).having(func.count() == 2))
        rows = await self.session.execute(
            select(Journey, Train).join(Train, Train.id == Journey.train_id)
            .where(Journey.journey_date == day, Journey.status == "scheduled",
                   Journey.route_id.in_(calling))
            .order_by(Journey.departure_at))
        return [(journey, train) for journey, train in rows]

    async def layout(self, train_id: uuid.UUID) -> list[tuple[Seat, Coach]]:
        rows = await self.session.execute(
            select(Seat, Coach).join(Coach, Coach.id == Seat.coach_id)
            .where(Coach.train_id == train_id).order_by(Coach.code, Seat.position))
        return [(seat, coach) for seat, coach in rows]

    async def seats_of(self, train_id: uuid.UUID, seat_ids: list[uuid.UUID]
                       ) -> list[tuple[Seat, Coach]]:
        rows = await self.session.execute(
            select(Seat, Coach).join(Coach, Coach.id == Seat.coach_id)
            .where(Coach.train_id == train_id, Seat.id.in_(seat_ids)))
        return [(seat, coach) for seat, coach in rows]

    async def seats_per_class(self, train_ids: set[uuid.UUID]) -> list[Any]:
        return list(await self.session.execute(
            select(Coach.train_id, Coach.travel_class, func.min(Coach.base_fare),
                   func.count(Seat.id))
            .join(Seat, Seat.coach_id == Coach.id).where(Coach.train_id.in_(train_ids))
            .group_by(Coach.train_id, Coach.travel_class)))

    async def taken_per_class(self, journey_ids: set[uuid.UUID], now: datetime) -> list[Any]:
        return list(await self.session.execute(
            select(SeatClaim.journey_id, Coach.travel_class, func.count())
            .join(Seat, Seat.id == SeatClaim.seat_id).join(Coach, Coach.id == Seat.coach_id)
            .where(SeatClaim.journey_id.in_(journey_ids), _live(now))
            .group_by(SeatClaim.journey_id, Coach.travel_class)))

    async def in_use(self, model: type, column, value) -> bool:
        return await self.session.scalar(select(func.count()).select_from(model)
                                         .where(column == value)) > 0


def _live(now: datetime):
    return or_(SeatClaim.state == "booked", SeatClaim.expires_at > now)


class Claims(Repository[SeatHold]):
    model, entity = SeatHold, "hold"

    async def of_journey(self, journey_id: uuid.UUID, now: datetime) -> dict[uuid.UUID, str]:
        rows = await self.session.execute(
            select(SeatClaim.seat_id, SeatClaim.state)
            .where(SeatClaim.journey_id == journey_id, _live(now)))
        return {seat_id: state for seat_id, state in rows}

    async def of_seats(self, journey_id: uuid.UUID, seat_ids: list[uuid.UUID]) -> list[SeatClaim]:
        return list(await self.session.scalars(select(SeatClaim).where(
            SeatClaim.journey_id == journey_id, SeatClaim.seat_id.in_(seat_ids))))

    async def drop_lapsed(self, journey_id: uuid.UUID, seat_ids: list[uuid.UUID],
                          now: datetime) -> int:
        return await self.update_rows(delete(SeatClaim).where(
            SeatClaim.journey_id == journey_id, SeatClaim.seat_id.in_(seat_ids),
            SeatClaim.state == "held", SeatClaim.expires_at <= now))

    async def add(self, rows: list[dict]) -> None:
        if rows:
            await self.session.execute(self.insert(SeatClaim), rows)

    async def move_deadline(self, hold_id: uuid.UUID, deadline: datetime) -> int:
        return await self.update_rows(update(SeatClaim).where(
            SeatClaim.hold_id == hold_id, SeatClaim.state == "held").values(expires_at=deadline))

    async def drop_held(self, hold_id: uuid.UUID) -> int:
        return await self.update_rows(delete(SeatClaim).where(
            SeatClaim.hold_id == hold_id, SeatClaim.state == "held"))

    async def drop_for_booking(self, booking_id: uuid.UUID, hold_id: uuid.UUID) -> int:
        return await self.update_rows(delete(SeatClaim).where(
            or_(SeatClaim.booking_id == booking_id,
                and_(SeatClaim.hold_id == hold_id, SeatClaim.state == "held"))))

    async def attach(self, hold_id: uuid.UUID, booking_id: uuid.UUID) -> None:
        await self.update_rows(update(SeatClaim).where(SeatClaim.hold_id == hold_id)
                               .values(booking_id=booking_id))

    async def lapsed_holds(self, now: datetime, limit: int) -> list[SeatHold]:
        return list(await self.session.scalars(
            select(SeatHold).where(SeatHold.status == "active", SeatHold.expires_at <= now)
            .order_by(SeatHold.expires_at).limit(limit)))


class Bookings(Repository[Booking]):
    model, entity = Booking, "booking"

    async def lines(self, booking_id: uuid.UUID) -> list[BookingLine]:
        return list(await self.session.scalars(
            select(BookingLine).where(BookingLine.booking_id == booking_id)
            .order_by(BookingLine.coach_code, BookingLine.position)))

    async def by_charge(self, charge_id: uuid.UUID) -> Booking | None:
        return await self.session.scalar(select(Booking).where(
            or_(Booking.charge_id == charge_id, Booking.paid_charge_id == charge_id)))

    def mine(self, user_id: uuid.UUID):
        return select(Booking).where(Booking.user_id == user_id).order_by(
            Booking.created_at.desc(), Booking.id)

    async def pnr_taken(self, pnr: str, reference: str) -> bool:
        return await self.session.scalar(select(func.count()).select_from(Booking).where(
            or_(Booking.pnr == pnr, Booking.booking_reference == reference))) > 0

    async def set_lines(self, booking_id: uuid.UUID, status: str) -> None:
        await self.update_rows(update(BookingLine).where(BookingLine.booking_id == booking_id)
                               .values(status=status))

    async def tickets(self, booking_id: uuid.UUID) -> list[Ticket]:
        return list(await self.session.scalars(
            select(Ticket).where(Ticket.booking_id == booking_id).order_by(Ticket.ticket_number)))

    async def set_tickets(self, booking_id: uuid.UUID, status: str) -> None:
        await self.update_rows(update(Ticket).where(Ticket.booking_id == booking_id,
                                                    Ticket.status == "valid").values(status=status))

    async def use_ticket(self, ticket_id: uuid.UUID, at: datetime, by: uuid.UUID) -> bool:
        """Valid -> used, once: the conditional update decides between simultaneous scans."""
        return await self.update_rows(
            update(Ticket).where(Ticket.id == ticket_id, Ticket.status == "valid")
            .values(status="used", validated_at=at, validated_by=by)) == 1


class Stats(Repository[DailyStat]):
    model, entity = DailyStat, "daily stats"

    async def first_time(self, fact_key: str) -> bool:
        """Record the fact; False when it was counted already."""
        result = await self.session.execute(
            self.insert(StatFact).values(fact_key=fact_key).on_conflict_do_nothing())
        return result.rowcount == 1

    async def new_user(self, day: date, user_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            self.insert(StatUser).values(stat_date=day, user_id=user_id).on_conflict_do_nothing())
        return result.rowcount == 1

    async def add(self, day: date, **amounts: int) -> None:
        table = DailyStat.__table__
        values = {"stat_date": day, "total_bookings": 0, "successful_bookings": 0,
                  "failed_bookings": 0, "total_revenue": 0, "total_passengers": 0,
                  "unique_users": 0} | amounts
        statement = self.insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.stat_date],
            set_={name: table.c[name] + statement.excluded[name] for name in amounts})
        await self.session.execute(statement)

    async def between(self, start: date, end: date) -> list[DailyStat]:
        return list(await self.session.scalars(
            select(DailyStat).where(DailyStat.stat_date >= start, DailyStat.stat_date <= end)
            .order_by(DailyStat.stat_date)))
