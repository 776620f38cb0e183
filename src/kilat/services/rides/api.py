"""Rides routes: drivers and their beacon, requests and offers, the ride and its payment."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.models import utcnow
from kilat.platform.readthrough import await_fact
from kilat.platform.schemas import Envelope, Page, Paging, error_responses, ok, page_of
from kilat.services.rides import schemas
from kilat.services.rides.context import Ctx, RidesContext
from kilat.services.rides.domain import RideStatus
from kilat.services.rides.drivers import DriverProfiles
from kilat.services.rides.matching import Matching
from kilat.services.rides.repository import Rides as RideRows
from kilat.services.rides.sockets import rides_socket
from kilat.services.rides.trips import Trips
from kilat.services.rides.views import ride_view

Driver = RequireRole("driver")
Passenger = RequireRole("passenger")


def _profiles(session: Session, context: Ctx) -> DriverProfiles:
    return DriverProfiles(session, context, utcnow())


def _matching(session: Session, context: Ctx) -> Matching:
    return Matching(session, context, utcnow())


def _trips(session: Session, context: Ctx) -> Trips:
    return Trips(session, context, utcnow())


Profiles = Annotated[DriverProfiles, Depends(_profiles)]
Matcher = Annotated[Matching, Depends(_matching)]
TripDesk = Annotated[Trips, Depends(_trips)]

drivers = APIRouter(prefix="/api/v1/rides/drivers", tags=["rides: drivers"])
requests = APIRouter(prefix="/api/v1/rides/requests", tags=["rides: requests"])
offers = APIRouter(prefix="/api/v1/rides/offers", tags=["rides: offers"])
rides = APIRouter(prefix="/api/v1/rides", tags=["rides"])
sockets = APIRouter(tags=["rides: live"])


def _driver(row) -> schemas.Driver:
    return schemas.Driver.model_validate(row, from_attributes=True)


@drivers.post("", status_code=201, response_model=Envelope[schemas.Driver],
              responses=error_responses(400, 401, 403, 409, 422))
async def register_driver(body: schemas.DriverCreate, desk: Profiles, user: Driver) -> dict:
    return ok(_driver(await desk.register(user, body)))


@drivers.get("/me", response_model=Envelope[schemas.Driver],
             responses=error_responses(400, 401, 403, 404))
async def my_driver_profile(desk: Profiles, user: Driver) -> dict:
    return ok(_driver(await desk.me(user)))


@drivers.post("/me/beacon", response_model=Envelope[schemas.Driver],
              responses=error_responses(400, 401, 403, 404, 422, 503))
async def beacon(body: schemas.Beacon, desk: Profiles, user: Driver) -> dict:
    """Switch availability and report the driver's position (at most every few seconds)."""
    return ok(_driver(await desk.beacon(user, body)))


@requests.post("", status_code=201, response_model=Envelope[schemas.RideRequest],
               responses=error_responses(400, 401, 403, 409, 422, 503))
async def request_ride(body: schemas.RequestCreate, matcher: Matcher, user: Passenger) -> dict:
    return ok(await matcher.shown(await matcher.create(user, body)))


@requests.get("/{request_id}", response_model=Envelope[schemas.RideRequest],
              responses=error_responses(400, 401, 403, 404))
async def get_request(request_id: uuid.UUID, matcher: Matcher, user: CurrentUser) -> dict:
    return ok(await matcher.view(request_id, user))


@requests.post("/{request_id}/confirm", status_code=201, response_model=Envelope[schemas.Ride],
               responses=error_responses(400, 401, 403, 404, 409))
async def confirm_driver(request_id: uuid.UUID, matcher: Matcher, user: Passenger) -> dict:
    """The passenger takes the driver who accepted: the ride is created (status ``pickup``)."""
    return ok(ride_view(await matcher.confirm(user, request_id)))


@requests.post("/{request_id}/cancel", response_model=Envelope[schemas.RideRequest],
               responses=error_responses(400, 401, 403, 404, 409, 422))
async def cancel_request(request_id: uuid.UUID, matcher: Matcher, user: CurrentUser,
                         body: schemas.Cancel | None = None) -> dict:
    """Either side, before the ride starts; a driver backing out lets the search go on."""
    request = await matcher.cancel(user, request_id, body.reason if body else "")
    return ok(await matcher.shown(request))


@offers.get("", response_model=Envelope[list[schemas.Offer]], responses=error_responses(401, 403))
async def my_offers(matcher: Matcher, user: Driver) -> dict:
    """My pending offers, nearest first, with how far the pickup is and when each lapses."""
    return ok(await matcher.my_offers(user))


@offers.post("/{offer_id}/accept", response_model=Envelope[schemas.RideRequest],
             responses=error_responses(400, 401, 403, 404, 409))
async def accept_offer(offer_id: uuid.UUID, matcher: Matcher, user: Driver) -> dict:
    return ok(await matcher.shown(await matcher.accept(user, offer_id)))


@offers.post("/{offer_id}/reject", response_model=Envelope[schemas.Offer],
             responses=error_responses(400, 401, 403, 404, 409))
async def reject_offer(offer_id: uuid.UUID, matcher: Matcher, user: Driver) -> dict:
    return ok(await matcher.reject(user, offer_id))


@rides.get("", response_model=Page[schemas.Ride], responses=error_responses(400, 401))
async def my_rides(
    desk: TripDesk, user: CurrentUser, paging: Paging,
    role: Annotated[Literal["passenger", "driver"] | None,
                    Query(description="rides I took (passenger) or drove (driver); both if unset")]
    = None,
    status: Annotated[RideStatus | None, Query()] = None,
) -> dict:
    rows, total = await desk.mine(user, role, status, paging.offset, paging.limit)
    return page_of([ride_view(r) for r in rows], total, paging)


@rides.get("/{ride_id}", response_model=Envelope[schemas.Ride],
           responses=error_responses(400, 401, 403, 404))
async def get_ride(ride_id: uuid.UUID, desk: TripDesk, user: CurrentUser) -> dict:
    return ok(ride_view(await desk.view(user, ride_id)))


@rides.post("/{ride_id}/start", response_model=Envelope[schemas.Ride],
            responses=error_responses(400, 401, 403, 404, 409, 422))
async def start_ride(ride_id: uuid.UUID, body: schemas.StartRide, desk: TripDesk,
                     user: CurrentUser) -> dict:
    """The driver, within ``KILAT_RIDES_START_RADIUS_M`` (100 m) of the pickup."""
    return ok(ride_view(await desk.start(user, ride_id, body.latitude, body.longitude)))


@rides.post("/{ride_id}/location", response_model=Envelope[schemas.LocationResult],
            responses=error_responses(400, 401, 403, 404, 409, 422))
async def report_location(ride_id: uuid.UUID, body: schemas.Location, desk: TripDesk,
                          user: CurrentUser) -> dict:
    """A fix from the driver's or the passenger's phone; only the driver's track is billed."""
    return ok(await desk.locate(user, ride_id, body))


@rides.post("/{ride_id}/arrive", response_model=Envelope[schemas.Ride],
            responses=error_responses(400, 401, 403, 404, 409, 422))
async def arrive(ride_id: uuid.UUID, body: schemas.Arrive, desk: TripDesk,
                 user: CurrentUser) -> dict:
    """The driver ends the trip with the share of the metered fare to charge, (0, 1]."""
    return ok(ride_view(await desk.arrive(user, ride_id, body.adjustment_factor)))


@rides.post("/{ride_id}/payment", response_model=Envelope[schemas.Ride],
            responses=error_responses(400, 401, 403, 404, 409, 422)
            | {202: {"model": Envelope[schemas.Ride],
                     "description": "charge asked for; poll the ride for the outcome"}})
async def pay(ride_id: uuid.UUID, body: schemas.Payment, request: Request, response: Response,
              context: Ctx, user: CurrentUser) -> dict:
    """The passenger accepts (charge through the payment service) or rejects the fare. Answers
    with the outcome when the payment service replies within ``KILAT_RIDES_PAYMENT_WAIT_SECONDS``,
    else 202 with ``payment_pending``."""
    database = request.app.state.runtime.database
    async with database.session() as session:
        ride = await Trips(session, context, utcnow()).pay(user, ride_id,
                                                           body.decision == "accept")
        shown = ride_view(ride)
    if ride.status != RideStatus.PAYMENT_PENDING:
        return ok(shown)
    settled = await await_fact(lambda: _ride(database, ride_id),
                               lambda r: r.status != RideStatus.PAYMENT_PENDING,
                               context.settings.payment_wait_seconds)
    if settled is None:
        response.status_code = 202
        return ok(shown)
    return ok(ride_view(settled))


async def _ride(database, ride_id: uuid.UUID):
    async with database.session(write=False) as session:
        return await RideRows(session).get(ride_id)


sockets.add_api_websocket_route("/ws/rides", rides_socket)

routers = [drivers, requests, offers, rides, sockets]
__all__ = ["routers", "RidesContext"]
