"""Booking routes: parse, call the service, return the envelope."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.errors import BadRequest, NotFound, PayloadTooLarge
from kilat.platform.http import Session
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
from kilat.platform.storage import BlobNotFound, BlobStorage, InvalidBlobKey
from kilat.services.booking import pets, service
from kilat.services.booking.context import BookingContext, Ctx
from kilat.services.booking.domain import PhotoType, parse_status_filter
from kilat.services.booking.repository import BookingFilter, Near
from kilat.services.booking.schemas import (
    Booking,
    BookingCreate,
    BookingStats,
    CancelRequest,
    DeclineRequest,
    Pet,
    PetCreate,
    PetUpdate,
    Photo,
    PhotoCreate,
    StatusChange,
    as_utc,
    optional_text,
)
from kilat.services.booking.settings import BookingSettings

MULTIPART_OVERHEAD_BYTES = 64 * 1024
CAPTION = TypeAdapter(optional_text(500))


async def _settings(context: Ctx) -> BookingSettings:
    return context.settings


async def _storage(context: Ctx) -> BlobStorage:
    return context.storage


Config = Annotated[BookingSettings, Depends(_settings)]
Storage = Annotated[BlobStorage, Depends(_storage)]
Owner = RequireRole("owner")
Runner = RequireRole("runner")
OwnerOrAdmin = RequireRole("owner", "admin")
Admin = RequireRole("admin")

READ_ERRORS = error_responses(400, 401, 403, 404)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


def _booking(row) -> dict:
    return ok(Booking.model_validate(row))


def _page(rows: list, total: int, paging, schema) -> dict:
    return page_of([schema.model_validate(row) for row in rows], total, paging)


StatusQuery = Annotated[str | None, Query(
    max_length=200, description="a status, a comma list of statuses, `active` "
    "(accepted, in_progress, delivered) or `completed`")]


def _statuses(raw: str | None):
    try:
        return parse_status_filter(raw)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def _near(latitude: float | None, longitude: float | None, radius_km: float) -> Near | None:
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise BadRequest("latitude and longitude go together")
    return Near(latitude, longitude, radius_km)


def _when(value: datetime | None) -> datetime | None:
    try:
        return as_utc(value)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


router = APIRouter(prefix="/api/v1/bookings", tags=["bookings"])
FILES_PATH = f"{router.prefix}/photos/files"


@router.post("", status_code=201, response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def create_booking(body: BookingCreate, session: Session, user: Owner,
                         config: Config) -> dict:
    """Create a booking priced from the straight-line distance, pet and crate."""
    booking = await service.create_booking(session, user, body, config.pricing_rules())
    return _booking(booking)


@router.get("", response_model=Page[Booking], response_model_exclude_none=True,
            responses=error_responses(400, 401))
async def list_bookings(
    session: Session, user: CurrentUser, paging: Paging, status: StatusQuery = None,
    latitude: Annotated[float | None, Query(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float, Query(gt=0, le=500, description="with latitude/longitude: "
                                      "pickup within this distance, nearest first")] = 10.0,
) -> dict:
    """Owners: their bookings. Runners: their jobs plus open requested ones. Admins: all."""
    spec = BookingFilter(statuses=_statuses(status), near=_near(latitude, longitude, radius_km))
    rows, total = await service.list_bookings(session, user, spec, paging)
    return _page(rows, total, paging, Booking)


@router.get("/photos/files/{key:path}",
            response_class=Response, responses={
                200: {"content": {t: {} for t in ("image/jpeg", "image/png", "image/webp")},
                      "description": "the stored photo"},
                **error_responses(404)})
async def photo_file(key: str, storage: Storage) -> Response:
    """An uploaded photo, public by its unguessable key (for <img> tags)."""
    if not key.startswith("bookings/"):
        raise NotFound("photo not found")
    try:
        data, content_type = await storage.get(key)
    except (BlobNotFound, InvalidBlobKey) as exc:
        raise NotFound("photo not found") from exc
    return Response(data, media_type=content_type,
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


@router.get("/{booking_id}", response_model=Envelope[Booking], response_model_exclude_none=True,
            responses=READ_ERRORS)
async def get_booking(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    return _booking(await service.get_booking(session, user, booking_id))


@router.get("/{booking_id}/history", response_model=Envelope[list[StatusChange]],
            response_model_exclude_none=True, responses=READ_ERRORS)
async def booking_history(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    """Every status change, oldest first: who, from, to, when."""
    rows = await service.history(session, user, booking_id)
    return ok([StatusChange.model_validate(row) for row in rows])


@router.post("/{booking_id}/accept", response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def accept_booking(booking_id: uuid.UUID, session: Session, user: Runner) -> dict:
    """Runner takes an open job; 409 when another runner already has it."""
    return _booking(await service.accept(session, user, booking_id))


@router.post("/{booking_id}/pickup", response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def pickup_booking(booking_id: uuid.UUID, session: Session, user: Runner) -> dict:
    """Assigned runner has the pet: accepted → in_progress."""
    return _booking(await service.pickup(session, user, booking_id))


@router.post("/{booking_id}/deliver", response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def deliver_booking(booking_id: uuid.UUID, session: Session, user: Runner) -> dict:
    """Assigned runner handed the pet over: in_progress → delivered."""
    return _booking(await service.deliver(session, user, booking_id))


@router.post("/{booking_id}/confirm", response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def confirm_booking(booking_id: uuid.UUID, session: Session, user: OwnerOrAdmin) -> dict:
    """Owner confirms delivery: delivered → completed; again on a completed booking is a no-op."""
    return _booking(await service.confirm(session, user, booking_id))


@router.post("/{booking_id}/decline", response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def decline_booking(booking_id: uuid.UUID, body: DeclineRequest, session: Session,
                          user: Runner) -> dict:
    """Assigned runner hands the job back; it is open again."""
    return _booking(await service.decline(session, user, booking_id, body.reason))


@router.post("/{booking_id}/cancel", response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def cancel_booking(booking_id: uuid.UUID, session: Session, user: CurrentUser,
                         body: CancelRequest | None = None) -> dict:
    """Owner, assigned runner or admin cancel before pickup."""
    reason = body.reason if body is not None else None
    return _booking(await service.cancel(session, user, booking_id, reason))


@router.post("/{booking_id}/rebook", status_code=201, response_model=Envelope[Booking],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def rebook_booking(booking_id: uuid.UUID, session: Session, user: Owner,
                         config: Config) -> dict:
    """A new booking with the same pet and addresses, priced again."""
    return _booking(await service.rebook(session, user, booking_id, config.pricing_rules()))


@router.post("/{booking_id}/photo", status_code=201, response_model=Envelope[Photo],
             response_model_exclude_none=True, responses=WRITE_ERRORS)
async def add_photo(booking_id: uuid.UUID, body: PhotoCreate, session: Session,
                    user: CurrentUser) -> dict:
    """Record a photo already hosted elsewhere, by URL."""
    photo = await service.add_photo(session, user, booking_id, body)
    return ok(Photo.model_validate(photo))


@router.get("/{booking_id}/photos", response_model=Envelope[list[Photo]],
            response_model_exclude_none=True, responses=READ_ERRORS)
async def list_photos(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    rows = await service.photos(session, user, booking_id)
    return ok([Photo.model_validate(row) for row in rows])


class LimitedUploadRoute(APIRoute):
    """Refuses a body whose declared length is over the photo limit before it is read."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def limited(request: Request) -> Response:
            context: BookingContext = request.app.state.runtime.context
            limit = context.settings.photo_max_bytes
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > limit + MULTIPART_OVERHEAD_BYTES:
                raise PayloadTooLarge("photo is too large", f"the limit is {limit} bytes")
            return await handler(request)

        return limited


uploads = APIRouter(prefix="/api/v1/bookings", tags=["bookings"], route_class=LimitedUploadRoute)


@uploads.post("/{booking_id}/photos/upload", status_code=201, response_model=Envelope[Photo],
              response_model_exclude_none=True,
              responses=error_responses(400, 401, 403, 404, 409, 413))
async def upload_photo(
    booking_id: uuid.UUID, session: Session, user: CurrentUser, storage: Storage, config: Config,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, checked by its bytes")],
    photo_type: Annotated[PhotoType, Form()],
    caption: Annotated[str | None, Form(max_length=500)] = None,
) -> dict:
    """Upload a photo (multipart); it is stored and served back at the returned photo_url."""
    data = await file.read(config.photo_max_bytes + 1)
    photo = await service.upload_photo(
        session, storage, user, booking_id, photo_type=photo_type,
        caption=_caption(caption), data=data, max_bytes=config.photo_max_bytes)
    return ok(Photo.model_validate(photo))


def _caption(raw: str | None) -> str | None:
    """A form field is no ``Schema``: the kernel's text rule is applied here."""
    try:
        caption = CAPTION.validate_python(raw)
        return None if caption is None else storable_text(caption)
    except (ValidationError, ValueError) as exc:
        raise BadRequest("caption: must be valid text of at most 500 characters",
                         str(exc) if not isinstance(exc, ValidationError) else "") from exc


pet_router = APIRouter(prefix="/api/v1/pets", tags=["pets"])


@pet_router.post("", status_code=201, response_model=Envelope[Pet],
                 response_model_exclude_none=True, responses=error_responses(400, 401, 403))
async def create_pet(body: PetCreate, session: Session, user: Owner) -> dict:
    return ok(Pet.model_validate(await pets.create_pet(session, user, body)))


@pet_router.get("", response_model=Envelope[list[Pet]], response_model_exclude_none=True,
                responses=error_responses(401, 403))
async def list_pets(session: Session, user: Owner) -> dict:
    """The caller's active pets, oldest first."""
    return ok([Pet.model_validate(pet) for pet in await pets.list_pets(session, user)])


@pet_router.get("/{pet_id}", response_model=Envelope[Pet], response_model_exclude_none=True,
                responses=READ_ERRORS)
async def get_pet(pet_id: uuid.UUID, session: Session, user: OwnerOrAdmin) -> dict:
    return ok(Pet.model_validate(await pets.get_pet(session, user, pet_id)))


@pet_router.put("/{pet_id}", response_model=Envelope[Pet], response_model_exclude_none=True,
                responses=WRITE_ERRORS)
async def update_pet(pet_id: uuid.UUID, body: PetUpdate, session: Session, user: Owner) -> dict:
    return ok(Pet.model_validate(await pets.update_pet(session, user, pet_id, body)))


@pet_router.delete("/{pet_id}", response_model=Envelope[Message],
                   responses=error_responses(400, 401, 403, 404, 409))
async def archive_pet(pet_id: uuid.UUID, session: Session, user: Owner) -> dict:
    await pets.archive_pet(session, user, pet_id)
    return ok({"message": "pet profile archived"})


admin_router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@admin_router.get("/bookings", response_model=Page[Booking], response_model_exclude_none=True,
                  responses=error_responses(400, 401, 403))
async def admin_bookings(
    session: Session, user: Admin, paging: Paging, status: StatusQuery = None,
    owner_id: uuid.UUID | None = None, runner_id: uuid.UUID | None = None,
    created_from: Annotated[datetime | None, Query(description="inclusive, RFC 3339")] = None,
    created_to: Annotated[datetime | None, Query(description="inclusive, RFC 3339")] = None,
) -> dict:
    """Every booking, newest first, filtered by status, owner, runner and creation time."""
    spec = BookingFilter(statuses=_statuses(status), owner_id=owner_id, runner_id=runner_id,
                         created_from=_when(created_from), created_to=_when(created_to))
    rows, total = await service.admin_list(session, spec, paging)
    return _page(rows, total, paging, Booking)


@admin_router.get("/stats/bookings", response_model=Envelope[BookingStats],
                  responses=error_responses(401, 403))
async def booking_stats(session: Session, user: Admin) -> dict:
    """Bookings in total and per status (every status listed, zeros included)."""
    return ok(await service.stats(session))


routers = [router, uploads, pet_router, admin_router]
