"""Rail routes: public search and seat maps, holds, bookings, tickets and the gate."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.db import Database
from kilat.platform.errors import BadRequest
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.models import utcnow
from kilat.platform.readthrough import await_fact
from kilat.platform.schemas import Envelope, Page, Paging, error_responses, ok, page_of
from kilat.services.rail import schemas, views
from kilat.services.rail.admin_api import admin_router
from kilat.services.rail.bookings import BookingService
from kilat.services.rail.context import Ctx
from kilat.services.rail.domain import BookingStatus
from kilat.services.rail.holds import HoldService, place_hold
from kilat.services.rail.repository import Bookings
from kilat.services.rail.search import SearchService
from kilat.services.rail.tickets import TicketService, qr_png, ticket_pdf

Passenger = RequireRole("passenger")
Gatekeeper = RequireRole("gate", "admin")

router = APIRouter(prefix="/api/v1/rail", tags=["rail"])


def _database(request: Request) -> Database:
    return request.app.state.runtime.database


# public ---------------------------------------------------------------------------------------

@router.get("/journeys/search", response_model=Envelope[list[schemas.JourneyOption]],
            responses=error_responses(400, 404, 422),
            summary="Journeys between two stations on a date, with seats and fares per class")
async def search(
    session: Session, context: Ctx,
    origin: Annotated[str, Query(alias="from", min_length=2, max_length=10,
                                 pattern=r"^[A-Za-z0-9]+$", description="station code, e.g. DHK")],
    destination: Annotated[str, Query(alias="to", min_length=2, max_length=10,
                                      pattern=r"^[A-Za-z0-9]+$")],
    day: Annotated[date, Query(alias="date", description="YYYY-MM-DD (Dhaka)")],
) -> dict:
    return ok(await SearchService(session, context.settings, context.cache)
              .search(origin, destination, day, utcnow()))


@router.get("/journeys/{journey_id}/seats", response_model=Envelope[schemas.SeatMap],
            responses=error_responses(400, 404))
async def seat_map(journey_id: uuid.UUID, session: Session, context: Ctx) -> dict:
    return ok(await SearchService(session, context.settings, context.cache)
              .seat_map(journey_id, utcnow()))


@router.get("/keys", response_model=Envelope[schemas.VerificationKey],
            summary="The public key that verifies ticket QR codes offline")
async def keys(context: Ctx) -> dict:
    signer = context.signer
    return ok(schemas.VerificationKey(public_key_pem=signer.public_pem(), jwk=signer.jwk()))


# holds ----------------------------------------------------------------------------------------

@router.post("/holds", status_code=201, response_model=Envelope[schemas.Hold],
             responses=error_responses(400, 401, 403, 404, 409, 422))
async def create_hold(body: schemas.HoldCreate, request: Request, context: Ctx,
                      user: Passenger) -> dict:
    return ok(views.hold(await place_hold(_database(request), context, user, body, utcnow())))


@router.get("/holds/{hold_id}", response_model=Envelope[schemas.Hold],
            responses=error_responses(400, 401, 403, 404))
async def get_hold(hold_id: uuid.UUID, session: Session, context: Ctx, user: Passenger) -> dict:
    return ok(views.hold(await HoldService(session, context).own_hold(user, hold_id)))


@router.delete("/holds/{hold_id}", status_code=204, response_class=Response,
               responses=error_responses(400, 401, 403, 404, 409))
async def release_hold(hold_id: uuid.UUID, session: Session, context: Ctx,
                       user: Passenger) -> Response:
    await HoldService(session, context).release(user, hold_id, utcnow())
    return Response(status_code=204)


@router.post("/holds/{hold_id}/extend", response_model=Envelope[schemas.Hold],
             responses=error_responses(400, 401, 403, 404, 409))
async def extend_hold(hold_id: uuid.UUID, session: Session, context: Ctx, user: Passenger) -> dict:
    return ok(views.hold(await HoldService(session, context).extend(user, hold_id, utcnow())))


# bookings -------------------------------------------------------------------------------------

@router.post("/bookings", status_code=201, response_model=Envelope[schemas.Booking],
             responses=error_responses(400, 401, 403, 404, 409, 422))
@idempotent
async def create_booking(body: schemas.BookingCreate, session: Session, context: Ctx,
                         user: Passenger) -> dict:
    booking = await BookingService(session, context).create(user, body, utcnow())
    return ok(await views.booking(session, booking))


@router.get("/bookings", response_model=Page[schemas.Booking], responses=error_responses(400, 401))
async def my_bookings(session: Session, user: CurrentUser, paging: Paging) -> dict:
    repo = Bookings(session)
    rows, total = await repo.paginate(repo.mine(user.user_id), paging)
    return page_of([await views.booking(session, row) for row in rows], total, paging)


@router.get("/bookings/{booking_id}", response_model=Envelope[schemas.Booking],
            responses=error_responses(400, 401, 404))
async def get_booking(booking_id: uuid.UUID, session: Session, context: Ctx,
                      user: CurrentUser) -> dict:
    booking = await BookingService(session, context).own(user, booking_id)
    return ok(await views.booking(session, booking))


@router.post("/bookings/{booking_id}/verify", response_model=Envelope[schemas.Booking],
             responses=error_responses(400, 401, 403, 404, 409, 429),
             summary="The one-time code sent to the passenger; 5 wrong codes need a new one")
async def verify_code(booking_id: uuid.UUID, body: schemas.OtpVerify, request: Request,
                      context: Ctx, user: Passenger) -> dict:
    # its own unit of work: a wrong code is counted (committed) and then refused
    async with _database(request).session() as session:
        booking, wrong = await BookingService(session, context).verify(
            user, booking_id, body.code, utcnow())
        view = await views.booking(session, booking)
    if wrong is not None:
        raise BadRequest("wrong code", wrong)
    return ok(view)


@router.post("/bookings/{booking_id}/otp", response_model=Envelope[schemas.Booking],
             responses=error_responses(400, 401, 403, 404, 409, 429),
             summary="Send a new code (once a minute)")
async def resend_code(booking_id: uuid.UUID, session: Session, context: Ctx,
                      user: Passenger) -> dict:
    booking = await BookingService(session, context).resend_code(user, booking_id, utcnow())
    return ok(await views.booking(session, booking))


@router.post("/bookings/{booking_id}/pay", response_model=Envelope[schemas.Booking],
             responses={202: {"model": Envelope[schemas.Booking],
                              "description": "payment_pending: poll GET /bookings/{id}"},
                        **error_responses(400, 401, 403, 404, 409)},
             summary="Charge the fare through the payment service; confirmed, or 202 to poll")
@idempotent
async def pay(booking_id: uuid.UUID, request: Request, context: Ctx,
              user: Passenger) -> JSONResponse:
    database = _database(request)
    async with database.session() as session:
        await BookingService(session, context).request_charge(user, booking_id, utcnow())

    async def lookup():
        async with database.session(write=False) as session:
            return await Bookings(session).get(booking_id)

    await await_fact(lookup, lambda b: b.status != BookingStatus.PAYMENT_PENDING,
                     context.settings.pay_wait_seconds)
    async with database.session(write=False) as session:
        view = await views.booking(session, await Bookings(session).get_or_404(booking_id))
    status = 202 if view.status == BookingStatus.PAYMENT_PENDING else 200
    return JSONResponse(jsonable_encoder(ok(view)), status_code=status)


@router.post("/bookings/{booking_id}/cancel", response_model=Envelope[schemas.Booking],
             responses=error_responses(400, 401, 404, 409),
             summary="Cancel: refund by the rule table, tickets cancelled, seats freed")
async def cancel_booking(booking_id: uuid.UUID, session: Session, context: Ctx,
                         user: CurrentUser, body: schemas.CancelRequest | None = None) -> dict:
    booking = await BookingService(session, context).cancel(
        user, booking_id, body.reason.strip() if body else "", utcnow())
    return ok(await views.booking(session, booking))


@router.get("/bookings/{booking_id}/tickets", response_model=Envelope[list[schemas.Ticket]],
            responses=error_responses(400, 401, 404))
async def booking_tickets(booking_id: uuid.UUID, session: Session, context: Ctx,
                          user: CurrentUser) -> dict:
    booking = await BookingService(session, context).own(user, booking_id)
    return ok([views.ticket(t) for t in await Bookings(session).tickets(booking.id)])


# tickets and the gate -------------------------------------------------------------------------

@router.get("/tickets/{ticket_id}/qr.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, **error_responses(400, 401, 404)})
async def ticket_qr(ticket_id: uuid.UUID, session: Session, context: Ctx,
                    user: CurrentUser) -> Response:
    ticket, _ = await TicketService(session, context.signer).ticket(user, ticket_id)
    return Response(qr_png(ticket), media_type="image/png")


@router.get("/tickets/{ticket_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}, **error_responses(400, 401, 404)})
async def ticket_document(ticket_id: uuid.UUID, session: Session, context: Ctx,
                          user: CurrentUser) -> Response:
    ticket, booking = await TicketService(session, context.signer).ticket(user, ticket_id)
    return Response(ticket_pdf(ticket, booking), media_type="application/pdf",
                    headers={"Content-Disposition":
                             f'inline; filename="ticket-{ticket.ticket_number}.pdf"'})


@router.post("/gate/validate", response_model=Envelope[schemas.GateResult],
             responses=error_responses(400, 401, 403, 404, 409, 422),
             summary="Check a ticket's signature and date and mark it used, once")
async def validate_ticket(body: schemas.GateScan, session: Session, context: Ctx,
                          gatekeeper: Gatekeeper) -> dict:
    ticket, booking = await TicketService(session, context.signer).validate(
        gatekeeper, body.qr, utcnow())
    return ok(schemas.GateResult(ticket=views.ticket(ticket), passenger_name=ticket.passenger_name,
                                 seat=ticket.seat_number, coach=ticket.coach_code, pnr=booking.pnr))


routers = [router, admin_router]
