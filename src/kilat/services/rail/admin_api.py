"""Admin routes: the timetable (stations, trains and coaches, routes, schedules, journeys) and
the daily stats."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from kilat.platform.auth import RequireRole
from kilat.platform.errors import BadRequest
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, error_responses, ok
from kilat.services.rail import schemas
from kilat.services.rail.context import Ctx
from kilat.services.rail.models import Route, Schedule, Station
from kilat.services.rail.stats import StatsService
from kilat.services.rail.timetable import TimetableService

Admin = RequireRole("admin")
admin_router = APIRouter(prefix="/api/v1/rail/admin", tags=["rail admin"])
MAX_STATS_DAYS = 366


def _schedule(row: Schedule) -> schemas.Schedule:
    return schemas.Schedule(id=row.id, train_id=row.train_id, route_id=row.route_id,
                            departure_time=row.departure_time.strftime("%H:%M"),
                            weekdays=list(row.weekdays))


async def _train(timetable: TimetableService, train_id: uuid.UUID) -> schemas.Train:
    train = await timetable.train(train_id)
    return schemas.Train(id=train.id, number=train.number, name=train.name,
                         coaches=await timetable.coaches(train.id))


# stations
@admin_router.get("/stations", response_model=Envelope[list[schemas.Station]],
                  responses=error_responses(401, 403))
async def stations(session: Session, _admin: Admin) -> dict:
    return ok([schemas.Station.model_validate(s)
               for s in await TimetableService(session).repo.stations()])


@admin_router.post("/stations", status_code=201, response_model=Envelope[schemas.Station],
                   responses=error_responses(400, 401, 403, 409))
async def create_station(body: schemas.StationCreate, session: Session, _admin: Admin) -> dict:
    return ok(schemas.Station.model_validate(await TimetableService(session).create_station(body)))


@admin_router.get("/stations/{station_id}", response_model=Envelope[schemas.Station],
                  responses=error_responses(400, 401, 403, 404))
async def get_station(station_id: uuid.UUID, session: Session, _admin: Admin) -> dict:
    station = await TimetableService(session).repo.load_or_404(Station, station_id, "station")
    return ok(schemas.Station.model_validate(station))


@admin_router.patch("/stations/{station_id}", response_model=Envelope[schemas.Station],
                    responses=error_responses(400, 401, 403, 404))
async def update_station(station_id: uuid.UUID, body: schemas.StationUpdate, session: Session,
                         _admin: Admin) -> dict:
    station = await TimetableService(session).update_station(station_id, body)
    return ok(schemas.Station.model_validate(station))


@admin_router.delete("/stations/{station_id}", status_code=204, response_class=Response,
                     responses=error_responses(400, 401, 403, 404, 409))
async def delete_station(station_id: uuid.UUID, session: Session, _admin: Admin) -> Response:
    await TimetableService(session).delete_station(station_id)
    return Response(status_code=204)


# trains
@admin_router.get("/trains", response_model=Envelope[list[schemas.Train]],
                  responses=error_responses(401, 403))
async def trains(session: Session, _admin: Admin) -> dict:
    timetable = TimetableService(session)
    return ok([await _train(timetable, t.id) for t in await timetable.repo.trains()])


@admin_router.post("/trains", status_code=201, response_model=Envelope[schemas.Train],
                   responses=error_responses(400, 401, 403, 409))
async def create_train(body: schemas.TrainCreate, session: Session, _admin: Admin) -> dict:
    timetable = TimetableService(session)
    return ok(await _train(timetable, (await timetable.create_train(body)).id))


@admin_router.get("/trains/{train_id}", response_model=Envelope[schemas.Train],
                  responses=error_responses(400, 401, 403, 404))
async def get_train(train_id: uuid.UUID, session: Session, _admin: Admin) -> dict:
    return ok(await _train(TimetableService(session), train_id))


@admin_router.patch("/trains/{train_id}", response_model=Envelope[schemas.Train],
                    responses=error_responses(400, 401, 403, 404))
async def rename_train(train_id: uuid.UUID, body: schemas.TrainUpdate, session: Session,
                       _admin: Admin) -> dict:
    timetable = TimetableService(session)
    await timetable.rename_train(train_id, body)
    return ok(await _train(timetable, train_id))


@admin_router.patch("/trains/{train_id}/coaches/{coach_id}", response_model=Envelope[schemas.Train],
                    responses=error_responses(400, 401, 403, 404),
                    summary="Change a coach's base fare (poisha); booked fares stay as booked")
async def set_coach_fare(train_id: uuid.UUID, coach_id: uuid.UUID, body: schemas.CoachFareUpdate,
                         session: Session, _admin: Admin) -> dict:
    timetable = TimetableService(session)
    await timetable.set_fare(train_id, coach_id, body.base_fare)
    return ok(await _train(timetable, train_id))


@admin_router.delete("/trains/{train_id}", status_code=204, response_class=Response,
                     responses=error_responses(400, 401, 403, 404, 409))
async def delete_train(train_id: uuid.UUID, session: Session, _admin: Admin) -> Response:
    await TimetableService(session).delete_train(train_id)
    return Response(status_code=204)


# routes
@admin_router.get("/routes", response_model=Envelope[list[schemas.Route]],
                  responses=error_responses(401, 403))
async def routes(session: Session, _admin: Admin) -> dict:
    timetable = TimetableService(session)
    return ok([await timetable.route_view(r) for r in await timetable.repo.routes()])


@admin_router.post("/routes", status_code=201, response_model=Envelope[schemas.Route],
                   responses=error_responses(400, 401, 403, 409))
async def create_route(body: schemas.RouteCreate, session: Session, _admin: Admin) -> dict:
    timetable = TimetableService(session)
    return ok(await timetable.route_view(await timetable.create_route(body)))


@admin_router.get("/routes/{route_id}", response_model=Envelope[schemas.Route],
                  responses=error_responses(400, 401, 403, 404))
async def get_route(route_id: uuid.UUID, session: Session, _admin: Admin) -> dict:
    timetable = TimetableService(session)
    route = await timetable.repo.load_or_404(Route, route_id, "route")
    return ok(await timetable.route_view(route))


@admin_router.delete("/routes/{route_id}", status_code=204, response_class=Response,
                     responses=error_responses(400, 401, 403, 404, 409))
async def delete_route(route_id: uuid.UUID, session: Session, _admin: Admin) -> Response:
    await TimetableService(session).delete_route(route_id)
    return Response(status_code=204)


# schedules and journeys
@admin_router.get("/schedules", response_model=Envelope[list[schemas.Schedule]],
                  responses=error_responses(401, 403))
async def schedules(session: Session, _admin: Admin) -> dict:
    return ok([_schedule(s) for s in await TimetableService(session).repo.schedules()])


@admin_router.post("/schedules", status_code=201, response_model=Envelope[schemas.Schedule],
                   responses=error_responses(400, 401, 403, 404, 409))
async def create_schedule(body: schemas.ScheduleCreate, session: Session, _admin: Admin) -> dict:
    return ok(_schedule(await TimetableService(session).create_schedule(body)))


@admin_router.delete("/schedules/{schedule_id}", status_code=204, response_class=Response,
                     responses=error_responses(400, 401, 403, 404))
async def delete_schedule(schedule_id: uuid.UUID, session: Session, _admin: Admin) -> Response:
    await TimetableService(session).delete_schedule(schedule_id)
    return Response(status_code=204)


@admin_router.get("/journeys", response_model=Envelope[list[schemas.Journey]],
                  responses=error_responses(400, 401, 403))
async def journeys(session: Session, _admin: Admin,
                   start: Annotated[date, Query(alias="from")],
                   end: Annotated[date, Query(alias="to")]) -> dict:
    _check_range(start, end)
    rows = await TimetableService(session).repo.journeys_between(start, end)
    return ok([schemas.Journey.model_validate(j) for j in rows])


@admin_router.post("/journeys", status_code=201, response_model=Envelope[schemas.Journey],
                   responses=error_responses(400, 401, 403, 404, 409))
async def create_journey(body: schemas.JourneyCreate, session: Session, context: Ctx,
                         _admin: Admin) -> dict:
    journey = await TimetableService(session, context.cache).create_journey(body)
    return ok(schemas.Journey.model_validate(journey))


@admin_router.post("/journeys/generate", status_code=201,
                   response_model=Envelope[list[schemas.Journey]],
                   responses=error_responses(400, 401, 403),
                   summary="Journeys from the schedules for days from start (existing ones kept)")
async def generate_journeys(body: schemas.JourneyGenerate, session: Session, context: Ctx,
                            _admin: Admin) -> dict:
    made = await TimetableService(session, context.cache).generate(body.start, body.days)
    return ok([schemas.Journey.model_validate(j) for j in made])


@admin_router.post("/journeys/{journey_id}/cancel", response_model=Envelope[schemas.Journey],
                   responses=error_responses(400, 401, 403, 404, 409))
async def cancel_journey(journey_id: uuid.UUID, session: Session, context: Ctx,
                         _admin: Admin) -> dict:
    return ok(schemas.Journey.model_validate(
        await TimetableService(session, context.cache).cancel_journey(journey_id)))


@admin_router.get("/stats", response_model=Envelope[list[schemas.DailyStat]],
                  responses=error_responses(400, 401, 403),
                  summary="daily_stats per (Dhaka) date: bookings, revenue (poisha), passengers")
async def daily_stats(session: Session, _admin: Admin,
                      start: Annotated[date, Query(alias="from")],
                      end: Annotated[date, Query(alias="to")]) -> dict:
    _check_range(start, end)
    return ok([schemas.DailyStat.model_validate(s)
               for s in await StatsService(session).between(start, end)])


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise BadRequest("to is before from")
    if (end - start).days > MAX_STATS_DAYS:
        raise BadRequest(f"at most {MAX_STATS_DAYS} days at once")
