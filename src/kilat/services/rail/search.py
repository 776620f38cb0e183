"""Search (cached per origin, destination and date) and the seat map of a journey."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import BadRequest, Unprocessable, not_found
from kilat.services.rail import domain, schemas
from kilat.services.rail.cache import SearchCache
from kilat.services.rail.models import Train
from kilat.services.rail.repository import Claims, Timetable
from kilat.services.rail.settings import RailSettings
from kilat.services.rail.timetable import DHAKA


class SearchService:
    def __init__(self, session: AsyncSession, settings: RailSettings, cache: SearchCache) -> None:
        self.session = session
        self.repo = Timetable(session)
        self.claims = Claims(session)
        self.settings = settings
        self.cache = cache

    async def search(self, origin: str, destination: str, day: date,
                     now: datetime) -> list[dict]:
        origin, destination = origin.upper(), destination.upper()
        if origin == destination:
            raise BadRequest("from and to must differ")
        today = now.astimezone(DHAKA).date()
        if day < today:
            raise Unprocessable("date is in the past")
        if day > today + timedelta(days=self.settings.sales_open_days):
            raise Unprocessable("sales not open",
                                f"sales open {self.settings.sales_open_days} days before departure")
        generation = await self.cache.generation(day)
        cached = await self.cache.get(origin, destination, day, generation)
        if cached is None:
            cached = await self._search(origin, destination, day, now)
            await self.cache.put(origin, destination, day, generation, cached)
        return [option for option in cached
                if datetime.fromisoformat(option["departure_at"]) > now]

    async def _search(self, origin: str, destination: str, day: date, now: datetime) -> list[dict]:
        stations = [await self.repo.station_by_code(code) for code in (origin, destination)]
        for code, station in zip((origin, destination), stations, strict=True):
            if station is None:
                raise not_found("station", code)
        start, end = stations
        found = await self.repo.journeys_on(day, (start.id, end.id))
        if not found:
            return []
        stops = {}
        for stop, _station in await self.repo.stops({j.route_id for j, _ in found}):
            stops[(stop.route_id, stop.station_id)] = stop
        trains = {train.id for _, train in found}
        journeys = {j.id for j, _ in found}
        classes: dict[uuid.UUID, dict[str, list[int]]] = {}
        for train_id, kind, fare, seats in await self.repo.seats_per_class(trains):
            classes.setdefault(train_id, {})[kind] = [int(fare), int(seats)]
        taken = {(journey_id, kind): int(n)
                 for journey_id, kind, n in await self.repo.taken_per_class(journeys, now)}
        options = []
        for journey, train in found:
            board, alight = stops[(journey.route_id, start.id)], stops[(journey.route_id, end.id)]
            if board.stop_order >= alight.stop_order:
                continue
            departure = journey.departure_at + timedelta(minutes=board.departure_minutes)
            option = schemas.JourneyOption(
                journey_id=journey.id, train_number=train.number, train_name=train.name,
                journey_date=journey.journey_date, from_code=origin, to_code=destination,
                departure_at=departure,
                arrival_at=journey.departure_at + timedelta(minutes=alight.arrival_minutes),
                currency=self.settings.currency,
                classes=[schemas.ClassAvailability(
                    travel_class=kind, fare=fare, total_seats=total,
                    available_seats=total - taken.get((journey.id, kind), 0))
                    for kind, (fare, total) in sorted(classes.get(train.id, {}).items())])
            options.append(option.model_dump(mode="json"))
        return options

    async def seat_map(self, journey_id: uuid.UUID, now: datetime) -> schemas.SeatMap:
        journey = await self.repo.get_or_404(journey_id)
        train = await self.repo.load_or_404(Train, journey.train_id, "train")
        claims = await self.claims.of_journey(journey_id, now)
        coaches: dict[uuid.UUID, schemas.CoachMap] = {}
        for seat, coach in await self.repo.layout(train.id):
            view = coaches.setdefault(coach.id, schemas.CoachMap(
                code=coach.code, travel_class=coach.travel_class, fare=coach.base_fare, seats=[]))
            state = claims.get(seat.id)
            view.seats.append(schemas.SeatView(
                id=seat.id, number=seat.number,
                state=domain.SeatState.AVAILABLE if state is None else domain.SeatState(state)))
        return schemas.SeatMap(journey_id=journey.id, train_number=train.number,
                               train_name=train.name, journey_date=journey.journey_date,
                               departure_at=journey.departure_at, coaches=list(coaches.values()))
