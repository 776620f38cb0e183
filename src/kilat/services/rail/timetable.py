"""The timetable: stations, trains with coaches and seats, routes, schedules, journeys; the demo."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.db import after_commit
from kilat.platform.errors import BadRequest, Conflict, not_found
from kilat.services.rail.cache import SearchCache
from kilat.services.rail import schemas
from kilat.services.rail.models import (
    BookingLine,
    Coach,
    Journey,
    Route,
    RouteStop,
    Schedule,
    Seat,
    SeatHold,
    Station,
    Train,
)
from kilat.services.rail.repository import Timetable

DHAKA = ZoneInfo("Asia/Dhaka")


def local_departure(day: date, at: time, zone: ZoneInfo = DHAKA) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


class TimetableService:
    def __init__(self, session: AsyncSession, cache: SearchCache | None = None,
                 zone: ZoneInfo = DHAKA) -> None:
        self.session = session
        self.repo = Timetable(session)
        self.cache = cache
        self.zone = zone

    def _forget(self, day: date) -> None:
        """Searches of that date see the change at once (else within the cache's lifetime)."""
        if self.cache is not None:
            after_commit(self.session, lambda: self.cache.forget(day))

    async def _add(self, row, what: str):
        try:
            async with self.session.begin_nested():
                self.session.add(row)
                await self.session.flush()
        except IntegrityError as exc:
            raise Conflict(f"{what} already exists") from exc
        return row

    # stations
    async def create_station(self, body: schemas.StationCreate) -> Station:
        return await self._add(Station(**body.model_dump()), f"station {body.code}")

    async def update_station(self, station_id: uuid.UUID, body: schemas.StationUpdate) -> Station:
        station = await self.repo.load_or_404(Station, station_id, "station")
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(station, name, value)
        await self.session.flush()
        return station

    async def delete_station(self, station_id: uuid.UUID) -> None:
        station = await self.repo.load_or_404(Station, station_id, "station")
        if await self.repo.in_use(RouteStop, RouteStop.station_id, station_id):
            raise Conflict("station is on a route", "remove it from its routes first")
        await self.session.delete(station)

    # trains
    async def create_train(self, body: schemas.TrainCreate) -> Train:
        train = await self._add(Train(number=body.number, name=body.name), f"train {body.number}")
        coaches = [Coach(id=uuid.uuid4(), train_id=train.id, code=spec.code,
                         travel_class=spec.travel_class, base_fare=spec.base_fare)
                   for spec in body.coaches]
        self.session.add_all(coaches)
        await self.session.flush()
        await self.session.execute(insert(Seat), [
            {"id": uuid.uuid4(), "coach_id": coach.id, "number": str(n), "position": n}
            for coach, spec in zip(coaches, body.coaches, strict=True)
            for n in range(1, spec.seats + 1)])
        return train

    async def train(self, train_id: uuid.UUID) -> Train:
        return await self.repo.load_or_404(Train, train_id, "train")

    async def coaches(self, train_id: uuid.UUID) -> list[schemas.Coach]:
        return [schemas.Coach(id=c.id, code=c.code, travel_class=c.travel_class,
                              base_fare=c.base_fare, seats=n)
                for c, n in await self.repo.coaches(train_id)]

    async def rename_train(self, train_id: uuid.UUID, body: schemas.TrainUpdate) -> Train:
        train = await self.train(train_id)
        train.name = body.name
        await self.session.flush()
        return train

    async def set_fare(self, train_id: uuid.UUID, coach_id: uuid.UUID, fare: int) -> Coach:
        coach = await self.repo.load(Coach, coach_id)
        if coach is None or coach.train_id != train_id:
            raise not_found("coach", coach_id)
        coach.base_fare = fare
        await self.session.flush()
        return coach

    async def delete_train(self, train_id: uuid.UUID) -> None:
        train = await self.train(train_id)
        if await self.repo.in_use(Journey, Journey.train_id, train_id):
            raise Conflict("train has journeys", "cancel or delete its journeys first")
        for model in (Schedule,):
            if await self.repo.in_use(model, model.train_id, train_id):
                raise Conflict("train has schedules", "delete its schedules first")
        await self.session.delete(train)

    # routes
    async def create_route(self, body: schemas.RouteCreate) -> Route:
        stations = {}
        for stop in body.stops:
            station = await self.repo.station_by_code(stop.station_code)
            if station is None:
                raise BadRequest(f"unknown station {stop.station_code}")
            stations[stop.station_code] = station
        if len(stations) != len(body.stops):
            raise BadRequest("a route calls at a station once")
        previous = -1
        for stop in body.stops:
            if stop.arrival_minutes > stop.departure_minutes or stop.arrival_minutes < previous:
                raise BadRequest("stop times must not go backwards")
            previous = stop.departure_minutes
        route = await self._add(Route(code=body.code, name=body.name), f"route {body.code}")
        self.session.add_all(
            RouteStop(route_id=route.id, station_id=stations[stop.station_code].id,
                      stop_order=order, arrival_minutes=stop.arrival_minutes,
                      departure_minutes=stop.departure_minutes)
            for order, stop in enumerate(body.stops))
        await self.session.flush()
        return route

    async def route_view(self, route: Route) -> schemas.Route:
        stops = await self.repo.stops({route.id})
        return schemas.Route(id=route.id, code=route.code, name=route.name, stops=[
            schemas.Stop(station_code=station.code, stop_order=stop.stop_order,
                         arrival_minutes=stop.arrival_minutes,
                         departure_minutes=stop.departure_minutes) for stop, station in stops])

    async def delete_route(self, route_id: uuid.UUID) -> None:
        route = await self.repo.load_or_404(Route, route_id, "route")
        if await self.repo.in_use(Journey, Journey.route_id, route_id) or \
                await self.repo.in_use(Schedule, Schedule.route_id, route_id):
            raise Conflict("route is in use", "delete its schedules and journeys first")
        await self.session.delete(route)

    # schedules and journeys
    async def create_schedule(self, body: schemas.ScheduleCreate) -> Schedule:
        await self.repo.load_or_404(Train, body.train_id, "train")
        await self.repo.load_or_404(Route, body.route_id, "route")
        schedule = Schedule(train_id=body.train_id, route_id=body.route_id,
                            departure_time=time.fromisoformat(body.departure_time),
                            weekdays=body.weekdays)
        return await self._add(schedule, "schedule")

    async def delete_schedule(self, schedule_id: uuid.UUID) -> None:
        schedule = await self.repo.load_or_404(Schedule, schedule_id, "schedule")
        await self.session.delete(schedule)

    async def generate(self, start: date, days: int) -> list[Journey]:
        """A journey per schedule and running day; days already generated are kept."""
        made = []
        for schedule in await self.repo.schedules():
            for offset in range(days):
                day = start + timedelta(days=offset)
                if day.weekday() not in schedule.weekdays:
                    continue
                if await self.repo.journey_of(schedule.train_id, day) is not None:
                    continue
                made.append(await self._add(Journey(
                    train_id=schedule.train_id, route_id=schedule.route_id,
                    schedule_id=schedule.id, journey_date=day,
                    departure_at=local_departure(day, schedule.departure_time, self.zone)),
                    "journey"))
                self._forget(day)
        return made

    async def create_journey(self, body: schemas.JourneyCreate) -> Journey:
        await self.repo.load_or_404(Train, body.train_id, "train")
        await self.repo.load_or_404(Route, body.route_id, "route")
        if body.departure_at.tzinfo is None:
            raise BadRequest("departure_at needs a time zone")
        day = body.departure_at.astimezone(self.zone).date()
        self._forget(day)
        return await self._add(Journey(train_id=body.train_id, route_id=body.route_id,
                                       journey_date=day, departure_at=body.departure_at),
                               f"journey of that train on {day}")

    async def cancel_journey(self, journey_id: uuid.UUID) -> Journey:
        journey = await self.repo.get_or_404(journey_id)
        if await self.repo.in_use(SeatHold, SeatHold.journey_id, journey_id) or \
                await self.repo.in_use(BookingLine, BookingLine.journey_id, journey_id):
            raise Conflict("journey has holds or bookings", "it stays on sale")
        journey.status = "cancelled"
        await self.session.flush()
        self._forget(journey.journey_date)
        return journey
