"""The demo timetable: Bangladesh intercity trains between Dhaka, Chattogram, Sylhet and Rajshahi,
two classes (snigdha AC chair and shovan chair), 240 seats per journey. Fares in poisha."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.services.rail import schemas
from kilat.services.rail.models import Schedule
from kilat.services.rail.timetable import DHAKA, TimetableService

STATIONS = [("DHK", "Dhaka Kamalapur", "Dhaka"), ("CTG", "Chattogram", "Chattogram"),
            ("SYL", "Sylhet", "Sylhet"), ("RAJ", "Rajshahi", "Rajshahi")]

# code, name, stops (station, arrival min, departure min)
ROUTES = [
    ("DHK-CTG", "Dhaka to Chattogram", [("DHK", 0, 0), ("CTG", 330, 330)]),
    ("CTG-DHK", "Chattogram to Dhaka", [("CTG", 0, 0), ("DHK", 330, 330)]),
    ("DHK-SYL", "Dhaka to Sylhet", [("DHK", 0, 0), ("SYL", 420, 420)]),
    ("DHK-RAJ", "Dhaka to Rajshahi", [("DHK", 0, 0), ("RAJ", 320, 320)]),
]

# number, name, route, local departure, (snigdha fare, shovan chair fare) in poisha
TRAINS = [
    ("701", "Suborno Express", "DHK-CTG", "07:00", (82_800, 40_500)),
    ("702", "Suborno Express", "CTG-DHK", "16:30", (82_800, 40_500)),
    ("741", "Turna Nishitha", "DHK-CTG", "23:30", (78_800, 37_500)),
    ("709", "Parabat Express", "DHK-SYL", "06:20", (73_600, 38_500)),
    ("753", "Silk City Express", "DHK-RAJ", "14:40", (69_000, 34_000)),
]


def _coaches(fares: tuple[int, int]) -> list[schemas.CoachCreate]:
    snigdha, shovan = fares
    coaches = (("KA", "snigdha", snigdha), ("KHA", "snigdha", snigdha),
               ("GA", "shovan_chair", shovan), ("GHA", "shovan_chair", shovan))
    return [schemas.CoachCreate(code=code, travel_class=kind, base_fare=fare, seats=60)
            for code, kind, fare in coaches]


async def seed_timetable(session: AsyncSession, days: int = 10, today: date | None = None) -> int:
    """Load the demo timetable and its journeys for ``days`` from today; idempotent. Returns the
    number of journeys added."""
    timetable = TimetableService(session)
    repo = timetable.repo
    for code, name, city in STATIONS:
        if await repo.station_by_code(code) is None:
            await timetable.create_station(schemas.StationCreate(code=code, name=name, city=city))
    routes = {}
    for code, name, stops in ROUTES:
        route = await repo.route_by_code(code) or await timetable.create_route(schemas.RouteCreate(
            code=code, name=name, stops=[schemas.StopCreate(station_code=s, arrival_minutes=a,
                                                            departure_minutes=d)
                                         for s, a, d in stops]))
        routes[code] = route
    for number, name, route_code, departure, fares in TRAINS:
        train = await repo.train_by_number(number) or await timetable.create_train(
            schemas.TrainCreate(number=number, name=name, coaches=_coaches(fares)))
        known = await session.scalar(select(Schedule).where(Schedule.train_id == train.id))
        if known is None:
            await timetable.create_schedule(schemas.ScheduleCreate(
                train_id=train.id, route_id=routes[route_code].id, departure_time=departure))
    start = today or datetime.now(DHAKA).date()
    return len(await timetable.generate(start, days))


async def seed_demo(session: AsyncSession) -> None:
    await seed_timetable(session)


__all__ = ["seed_demo", "seed_timetable"]
