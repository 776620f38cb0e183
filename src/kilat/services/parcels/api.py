"""Parcels routes: customers, couriers, orders, shipments and dispatch, tracking, webhooks."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from kilat.platform.auth import CurrentUser, Principal, RequireRole
from kilat.platform.errors import KilatError, NotFound, Unprocessable
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.models import utcnow
from kilat.platform.readthrough import await_fact
from kilat.platform.schemas import (
    Envelope,
    Message,
    Page,
    Paging,
    error_responses,
    ok,
    page_of,
    storable_text,
)
from kilat.platform.storage import BlobNotFound, InvalidBlobKey
from kilat.services.parcels import schemas
from kilat.services.parcels.admin_api import router as admin_router
from kilat.services.parcels.ads import AdService
from kilat.services.parcels.audit import Actor
from kilat.services.parcels.context import Ctx
from kilat.services.parcels.customers import CourierService, CustomerService, check_live
from kilat.services.parcels.domain import PaymentStatus
from kilat.services.parcels.domain import ShipmentStatus as S
from kilat.services.parcels.orders import OrderService
from kilat.services.parcels.outputs import order_out, shipment_out
from kilat.services.parcels.repository import Orders, Shipments
from kilat.services.parcels.shipments import ShipmentService
from kilat.services.parcels.sockets import tracking_socket
from kilat.services.parcels.webhooks_api import router as webhooks_router

router = APIRouter(prefix="/api/v1/parcels", tags=["parcels"])
sockets = APIRouter(tags=["parcels"])
Customer = RequireRole("customer", "admin")
Courier = RequireRole("courier")
CourierOrAdmin = RequireRole("courier", "admin")
_SKEW = timedelta(minutes=2)  # a device clock a little ahead is not refused


def actor(request: Request, user: CurrentUser) -> Actor:
    return Actor.of(user, request)


Who = Annotated[Actor, Depends(actor)]


# --- customers -----------------------------------------------------------------------------------


@router.get("/me", response_model=Envelope[schemas.Customer], responses=error_responses(400, 401, 403))
async def my_profile(session: Session, user: Customer) -> dict:
    customer = await CustomerService(session).profile(user, create=False)
    return ok(schemas.Customer.model_validate(customer))


@router.put("/me", response_model=Envelope[schemas.Customer],
            responses=error_responses(400, 401, 403, 409, 422))
async def update_profile(body: schemas.CustomerUpdate, session: Session, user: Customer,
                         who: Who) -> dict:
    return ok(schemas.Customer.model_validate(await CustomerService(session).update(user, body, who)))


@router.get("/me/addresses", response_model=Envelope[list[schemas.Address]],
            responses=error_responses(400, 401, 403))
async def my_addresses(session: Session, user: Customer) -> dict:
    rows = await CustomerService(session).addresses(user)
    return ok([schemas.Address.model_validate(r) for r in rows])


@router.post("/me/addresses", status_code=201, response_model=Envelope[schemas.Address],
             responses=error_responses(400, 401, 403, 422))
async def add_address(body: schemas.AddressCreate, session: Session, user: Customer,
                      who: Who) -> dict:
    return ok(schemas.Address.model_validate(await CustomerService(session).add_address(user, body, who)))


@router.put("/me/addresses/{address_id}", response_model=Envelope[schemas.Address],
            responses=error_responses(400, 401, 403, 404, 409, 422))
async def replace_address(address_id: uuid.UUID, body: schemas.AddressCreate, session: Session,
                          user: Customer, who: Who) -> dict:
    address = await CustomerService(session).replace_address(user, address_id, body, who)
    return ok(schemas.Address.model_validate(address))


@router.delete("/me/addresses/{address_id}", response_model=Envelope[Message],
               responses=error_responses(400, 401, 403, 404))
async def delete_address(address_id: uuid.UUID, session: Session, user: Customer,
                         who: Who) -> dict:
    await CustomerService(session).delete_address(user, address_id, who)
    return ok({"message": "address deleted"})


# --- couriers ------------------------------------------------------------------------------------


@router.post("/couriers", status_code=201, response_model=Envelope[schemas.Courier],
             responses=error_responses(400, 401, 403, 409, 422))
async def register_courier(body: schemas.CourierCreate, session: Session, user: Courier,
                           context: Ctx, who: Who) -> dict:
    courier = await CourierService(session, context).register(user, body, who)
    return ok(schemas.Courier.model_validate(courier))


@router.get("/couriers/me", response_model=Envelope[schemas.Courier],
            responses=error_responses(400, 401, 403, 404))
async def my_courier(session: Session, user: Courier, context: Ctx) -> dict:
    return ok(schemas.Courier.model_validate(await CourierService(session, context).mine(user)))


@router.post("/couriers/me/online", response_model=Envelope[schemas.Courier],
             responses=error_responses(400, 401, 403, 404, 409))
async def go_online(session: Session, user: Courier, context: Ctx, who: Who) -> dict:
    courier = await CourierService(session, context).set_status(user, "online", who)
    return ok(schemas.Courier.model_validate(courier))


@router.post("/couriers/me/offline", response_model=Envelope[schemas.Courier],
             responses=error_responses(400, 401, 403, 404, 409))
async def go_offline(session: Session, user: Courier, context: Ctx, who: Who) -> dict:
    courier = await CourierService(session, context).set_status(user, "offline", who)
    return ok(schemas.Courier.model_validate(courier))


@router.post("/couriers/me/location", response_model=Envelope[schemas.LocationAccepted],
             responses=error_responses(400, 401, 403, 404, 409, 422))
async def post_location(body: schemas.LocationIn, user: Courier, context: Ctx) -> dict:
    """A GPS fix (telemetry fast path: live index and rooms now, the database in batches)."""
    check_live(body.latitude, body.longitude)
    now = utcnow()
    recorded_at = body.recorded_at or now
    if recorded_at.tzinfo is None or recorded_at > now.replace(microsecond=0) + _SKEW:
        raise Unprocessable("recorded_at must be a UTC time not in the future")
    rooms = await context.live.ingest(user.user_id, body.model_dump() | {"recorded_at": recorded_at})
    return ok({"accepted": True, "rooms": rooms})


@router.get("/couriers/me/route", response_model=Envelope[list[schemas.RunStop]],
            responses=error_responses(400, 401, 403))
async def my_route(session: Session, user: Courier) -> dict:
    """The stops still ahead in my run (multi-stop): pickups and dropoffs of my open shipments,
    in assignment order."""
    rows = await Shipments(session).route_of(user.user_id)
    return ok([schemas.RunStop(
        sequence=a.schedule_sequence, shipment_id=s.id, tracking_number=s.tracking_number,
        shipment_status=s.status, **schemas.Stop.model_validate(stop).model_dump())
        for a, s, stop in rows])


# --- orders --------------------------------------------------------------------------------------


@router.post("/orders", status_code=201, response_model=Envelope[schemas.Order],
             responses=error_responses(400, 401, 403, 404, 409, 422))
@idempotent
async def place_order(body: schemas.OrderCreate, session: Session, user: Customer, context: Ctx,
                      who: Who) -> dict:
    """Place an order: priced on the server (docs/parcels.md), with its shipment."""
    service = OrderService(session, context)
    order, shipment = await service.place(user, body, who)
    return ok(order_out(order, shipment, await Orders(session).items(order.id)))


@router.get("/orders", response_model=Page[schemas.Order], responses=error_responses(400, 401, 403))
async def my_orders(session: Session, user: Customer, paging: Paging,
                    status: Annotated[str | None, Query(max_length=20)] = None) -> dict:
    repo = Orders(session)
    rows, total = await repo.paginate(repo.of_customer(None if user.is_admin else user.user_id,
                                                       status), paging)
    shipments = await Shipments(session).of_orders([r.id for r in rows])
    items = [order_out(r, shipments[r.id], await repo.items(r.id)) for r in rows]
    return page_of(items, total, paging)


@router.get("/orders/{order_id}", response_model=Envelope[schemas.Order],
            responses=error_responses(400, 401, 403, 404))
async def get_order(order_id: uuid.UUID, session: Session, user: CurrentUser, context: Ctx) -> dict:
    service = OrderService(session, context)
    return ok(order_out(*await service.with_parts(await service.visible(order_id, user))))


@router.post("/orders/{order_id}/pay", response_model=Envelope[schemas.Order],
             responses={202: {"model": Envelope[schemas.Order],
                              "description": "payment_pending: the payment service has not "
                                             "answered yet; poll the order"},
                        **error_responses(400, 401, 403, 404, 409)})
@idempotent
async def pay_order(order_id: uuid.UUID, request: Request, user: Customer, context: Ctx,
                    body: schemas.PayIn | None = None) -> Response:
    """Ask the payment service for the price and wait briefly for its answer (else 202)."""
    database = context.runtime.database
    who = Actor.of(user, request)
    async with database.session() as session:
        await OrderService(session, context).request_charge(
            order_id, user, body.payment_method if body else None, who)

    async def lookup():
        async with database.session(write=False) as session:
            service = OrderService(session, context)
            return await service.with_parts(await service.visible(order_id, user))

    answered = await await_fact(lookup, lambda parts: parts[0].payment_status != PaymentStatus.PENDING,
                                context.settings.payment_wait_seconds)
    parts = answered or await lookup()
    return JSONResponse(jsonable_encoder(ok(order_out(*parts))),
                        status_code=200 if answered else 202)


@router.post("/orders/{order_id}/cancel", response_model=Envelope[schemas.Order],
             responses=error_responses(400, 401, 403, 404, 409))
async def cancel_order(order_id: uuid.UUID, session: Session, user: CurrentUser, context: Ctx,
                       who: Who, body: schemas.CancelIn | None = None) -> dict:
    """Cancel; refund rules in docs/parcels.md (full before assignment, less a fee after)."""
    service = OrderService(session, context)
    order = await service.cancel(order_id, user, body.reason if body else "", who)
    return ok(order_out(*await service.with_parts(order)))


@router.post("/orders/{order_id}/tracking-sessions", status_code=201,
             response_model=Envelope[schemas.TrackingSession],
             responses=error_responses(400, 401, 403, 404))
async def open_tracking(order_id: uuid.UUID, session: Session, user: Customer, context: Ctx,
                        who: Who) -> dict:
    tracking, shipment = await OrderService(session, context).open_session(order_id, user, who)
    return ok(schemas.TrackingSession(
        id=tracking.id, session_token=tracking.session_token, expires_at=tracking.expires_at,
        tracking_number=shipment.tracking_number,
        websocket_path=f"/ws/parcels/{shipment.tracking_number}?session={tracking.session_token}"))


@router.delete("/orders/{order_id}/tracking-sessions/{session_id}",
               response_model=Envelope[Message], responses=error_responses(400, 401, 403, 404))
async def revoke_tracking(order_id: uuid.UUID, session_id: uuid.UUID, session: Session,
                          user: Customer, context: Ctx, who: Who) -> dict:
    await OrderService(session, context).revoke_session(order_id, session_id, user, who)
    return ok({"message": "tracking session revoked"})


# --- shipments and dispatch ----------------------------------------------------------------------


@router.get("/jobs", response_model=Envelope[list[schemas.Job]], responses=error_responses(400, 401, 403))
async def open_jobs(session: Session, user: Courier, context: Ctx) -> dict:
    """Paid shipments waiting for a courier, nearest first (within the dispatch radius)."""
    pairs = await ShipmentService(session, context).jobs(user)
    return ok([schemas.Job(shipment_id=s.id, distance_km=d, **{
        name: getattr(s, name) for name in schemas.Job.model_fields
        if name not in ("shipment_id", "distance_km")}) for s, d in pairs])


@router.get("/shipments", response_model=Page[schemas.Shipment],
            responses=error_responses(400, 401, 403))
async def my_shipments(session: Session, user: CourierOrAdmin, paging: Paging,
                       status: Annotated[S | None, Query()] = None) -> dict:
    repo = Shipments(session)
    rows, total = await repo.paginate(
        repo.of_courier(None if user.is_admin else user.user_id, status), paging)
    return page_of([await shipment_out(session, r) for r in rows], total, paging)


@router.get("/shipments/{shipment_id}", response_model=Envelope[schemas.Shipment],
            responses=error_responses(400, 401, 404))
async def get_shipment(shipment_id: uuid.UUID, session: Session, user: CurrentUser,
                       context: Ctx) -> dict:
    shipment = await ShipmentService(session, context).visible(shipment_id, user)
    return ok(await shipment_out(session, shipment))


@router.get("/shipments/{shipment_id}/timeline", response_model=Envelope[list[schemas.TimelineDetail]],
            responses=error_responses(400, 401, 404))
async def shipment_timeline(shipment_id: uuid.UUID, session: Session, user: CurrentUser,
                            context: Ctx) -> dict:
    await ShipmentService(session, context).visible(shipment_id, user)
    rows = await Shipments(session).timeline(shipment_id)
    return ok([schemas.TimelineDetail.model_validate(r) for r in rows])


@router.post("/shipments/{shipment_id}/claim", response_model=Envelope[schemas.Shipment],
             responses=error_responses(400, 401, 403, 404, 409))
async def claim_shipment(shipment_id: uuid.UUID, session: Session, user: Courier, context: Ctx,
                         who: Who) -> dict:
    """Take an open shipment: one courier wins, the others get 409."""
    shipment = await ShipmentService(session, context).claim(shipment_id, user, who)
    return ok(await shipment_out(session, shipment))


def _step(target: S):
    async def step(shipment_id: uuid.UUID, session: Session, user: Courier, context: Ctx,
                   who: Who) -> dict:
        shipment = await ShipmentService(session, context).step(shipment_id, user, target, who)
        return ok(await shipment_out(session, shipment))

    return step


for _path, _target in (("pickup", S.PICKED_UP), ("in-transit", S.IN_TRANSIT)):
    router.add_api_route(f"/shipments/{{shipment_id}}/{_path}", _step(_target), methods=["POST"],
                         response_model=Envelope[schemas.Shipment], name=f"shipment_{_path}",
                         responses=error_responses(400, 401, 403, 404, 409))


@router.post("/shipments/{shipment_id}/fail", response_model=Envelope[schemas.Shipment],
             responses=error_responses(400, 401, 403, 404, 409, 422))
async def fail_shipment(shipment_id: uuid.UUID, body: schemas.FailIn, session: Session,
                        user: Courier, context: Ctx, who: Who) -> dict:
    shipment = await ShipmentService(session, context).step(shipment_id, user, S.FAILED, who,
                                                            failure_reason=body.reason)
    return ok(await shipment_out(session, shipment))


@router.post("/shipments/{shipment_id}/return", response_model=Envelope[schemas.Shipment],
             responses=error_responses(400, 401, 403, 404, 409))
async def return_shipment(shipment_id: uuid.UUID, session: Session, user: CourierOrAdmin,
                          context: Ctx, who: Who) -> dict:
    """A failed shipment brought back to the sender."""
    shipment = await ShipmentService(session, context).mark_returned(shipment_id, user, who)
    return ok(await shipment_out(session, shipment))


@router.post("/shipments/{shipment_id}/deliver", response_model=Envelope[schemas.Shipment],
             responses=error_responses(400, 401, 403, 404, 409, 413, 422))
async def deliver_shipment(
    shipment_id: uuid.UUID, session: Session, user: Courier, context: Ctx, who: Who,
    recipient_name: Annotated[str, Form(min_length=1, max_length=200)],
    photo: Annotated[UploadFile | None, File(description="proof of delivery: JPEG, PNG or WebP")] = None,
) -> dict:
    """Deliver (multipart): the recipient's name and an optional proof-of-delivery photo."""
    try:
        name = storable_text(recipient_name).strip()
    except ValueError as exc:
        raise Unprocessable(f"recipient_name: {exc}") from exc
    if not name:
        raise Unprocessable("recipient_name is required")
    data = await photo.read(context.settings.photo_max_bytes + 1) if photo is not None else None
    shipment = await ShipmentService(session, context).deliver(shipment_id, user, who, name, data)
    return ok(await shipment_out(session, shipment))


@router.get("/photos/files/{key:path}", response_class=Response, responses={
    200: {"content": {t: {} for t in ("image/jpeg", "image/png", "image/webp")},
          "description": "the stored photo"}, **error_responses(400, 404)})
async def photo_file(key: str, context: Ctx) -> Response:
    """A proof-of-delivery photo, public by its unguessable key."""
    if not key.startswith("parcels/"):
        raise NotFound("photo not found")
    try:
        data, content_type = await context.storage.get(key)
    except (BlobNotFound, InvalidBlobKey) as exc:
        raise NotFound("photo not found") from exc
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=300"})


@router.get("/track/{tracking_number}", response_model=Envelope[schemas.PublicTracking],
            responses=error_responses(400, 404, 422))
async def public_tracking(tracking_number: str, session: Session, context: Ctx) -> dict:
    """Public: status and timeline by tracking number, without personal data."""
    shipment, events = await ShipmentService(session, context).public(tracking_number)
    return ok(schemas.PublicTracking(
        tracking_number=shipment.tracking_number, status=shipment.status, city=shipment.city,
        promised_at=shipment.promised_at, delivered_at=shipment.delivered_at,
        timeline=[schemas.TimelineEntry.model_validate(e) for e in events]))


# --- ads -----------------------------------------------------------------------------------------


def _optional_user(request: Request) -> Principal | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return request.app.state.runtime.verifier.principal(token)
    except KilatError:
        return None


@router.get("/ads", response_model=Envelope[list[schemas.ServedAd]], responses=error_responses(400))
async def serve_ads(
    request: Request, context: Ctx,
    channel: Annotated[Literal["web", "mobile", "wechat", "system"], Query()] = "web",
    city: Annotated[str | None, Query(max_length=100)] = None,
    session_id: Annotated[str | None, Query(max_length=100)] = None,
) -> dict:
    """Active ads matching the viewer (signed-in customers by their profile); impressions logged."""
    user = _optional_user(request)
    async with context.runtime.database.session() as session:  # an impression is a write
        served = await AdService(session).serve(channel, user.user_id if user else None, city,
                                                session_id, utcnow())
    return ok([schemas.ServedAd(id=ad.id, title=ad.title, body=ad.body, media_url=ad.media_url,
                                impression_id=impression) for ad, impression in served])


sockets.add_api_websocket_route("/ws/parcels/{tracking_number}", tracking_socket)

routers = [router, webhooks_router, admin_router, sockets]
