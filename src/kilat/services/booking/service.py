"""Booking rules with persistence: who may do what, transitions, history and events."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.payment import EscrowReleased
from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge, not_found
from kilat.platform.models import utcnow
from kilat.platform.schemas import PageParams
from kilat.platform.storage import BlobStorage
from kilat.services.booking import domain, events
from kilat.services.booking.domain import BookingStatus, Party, PricingRules
from kilat.services.booking.models import Booking, DeclineRecord, Photo, StatusChange
from kilat.services.booking.pets import active_pet, pet_spec_of
from kilat.services.booking.repository import BookingFilter, BookingRepository
from kilat.services.booking.schemas import BookingCreate, PhotoCreate

log = structlog.get_logger(__name__)

S = BookingStatus
ANY_PARTY = (Party.OWNER, Party.RUNNER, Party.ADMIN)
BOOKING_NUMBER_ATTEMPTS = 8


@dataclass(frozen=True)
class Actor:
    """Who made a change: a user with a role, or the system (user_id None)."""

    user_id: uuid.UUID | None
    role: str

    @classmethod
    def of(cls, user: Principal, party: Party | None = None) -> Actor:
        return cls(user.user_id, str(party) if party else user.role)


SYSTEM = Actor(None, "system")


# --- loading and authorization -------------------------------------------------------------------


async def _load(session: AsyncSession, booking_id: uuid.UUID, *, for_update: bool = False
                ) -> Booking:
    booking = await BookingRepository(session).get(booking_id, for_update=for_update)
    if booking is None:
        raise not_found("Booking", booking_id)
    return booking


def _party(booking: Booking, user: Principal, *allowed: Party) -> Party:
    party = domain.party_of(user.user_id, user.role, booking.owner_id, booking.runner_id)
    if party not in allowed:
        raise Forbidden("not your booking")
    return party


def _may_view(booking: Booking, user: Principal) -> bool:
    party = domain.party_of(user.user_id, user.role, booking.owner_id, booking.runner_id)
    open_to_runner = user.role == "runner" and domain.is_open_job(booking.status, booking.runner_id)
    return party is not None or open_to_runner


async def _move(session: AsyncSession, booking: Booking, target: BookingStatus, actor: Actor,
                reason: str | None = None) -> None:
    """Apply one transition of the state machine and write it to the history.

    Callers set their other fields afterwards and flush once, so a transition is one UPDATE and
    raises the version by one.
    """
    previous = booking.status
    domain.check_transition(previous, target)
    sequence = await BookingRepository(session).next_sequence(booking.id)
    booking.status = target
    _record_history(session, booking, previous, target, actor, reason, sequence)


def _record_history(session: AsyncSession, booking: Booking, previous: S | None, target: S,
                    actor: Actor, reason: str | None, sequence: int) -> None:
    session.add(StatusChange(
        booking_id=booking.id, from_status=previous, to_status=target, changed_by=actor.user_id,
        changed_by_role=actor.role, reason=reason, sequence=sequence))


# --- creating ------------------------------------------------------------------------------------


async def create_booking(session: AsyncSession, user: Principal, body: BookingCreate,
                         rules: PricingRules) -> Booking:
    """Price and store a new requested booking for the calling owner."""
    pet = await active_pet(session, user, body.pet_id) if body.pet_id is not None else None
    if body.pet_spec is not None:
        pet_spec = body.pet_spec.model_dump(mode="json", exclude_none=True)
    else:
        pet_spec = pet_spec_of(pet)
    return await _new_booking(
        session, Actor.of(user), owner_id=user.user_id, pet_spec=pet_spec,
        pickup=body.pickup_address.model_dump(mode="json", exclude_none=True),
        dropoff=body.dropoff_address.model_dump(mode="json", exclude_none=True),
        rules=rules, pet_id=body.pet_id, scheduled_at=body.scheduled_at, notes=body.notes)


async def _new_booking(session: AsyncSession, actor: Actor, *, owner_id: uuid.UUID, pet_spec: dict,
                       pickup: dict, dropoff: dict, rules: PricingRules, **fields) -> Booking:
    pickup_point = domain.Point(pickup["latitude"], pickup["longitude"])
    dropoff_point = domain.Point(dropoff["latitude"], dropoff["longitude"])
    quote = domain.quote(pickup_point, dropoff_point, pet_spec["pet_type"], pet_spec["weight_kg"],
                         rules)
    booking = Booking(
        booking_number=await _unique_booking_number(session), owner_id=owner_id,
        status=S.REQUESTED, pet_spec=pet_spec, crate_requirement=_crate_json(quote.crate),
        pickup_address=pickup, dropoff_address=dropoff, route_spec=_route_json(quote.route),
        pickup_lat=pickup_point.lat, pickup_lng=pickup_point.lng,
        dropoff_lat=dropoff_point.lat, dropoff_lng=dropoff_point.lng,
        estimated_price_cents=quote.price_cents, currency=quote.currency, **fields)
    session.add(booking)
    await session.flush()
    _record_history(session, booking, None, S.REQUESTED, actor, None, sequence=1)
    await events.requested(session, booking)
    return booking


async def _unique_booking_number(session: AsyncSession) -> str:
    repository = BookingRepository(session)
    for _ in range(BOOKING_NUMBER_ATTEMPTS):
        number = domain.new_booking_number()
        if not await repository.number_taken(number):
            return number
    raise Conflict("could not allocate a booking number", "retry the request")


def _crate_json(crate: domain.CrateRequirement) -> dict:
    return asdict(crate) | {"minimum_size": str(crate.minimum_size)}


def _route_json(route: domain.Route) -> dict:
    return {
        "pickup_lat": route.pickup.lat, "pickup_lng": route.pickup.lng,
        "dropoff_lat": route.dropoff.lat, "dropoff_lng": route.dropoff.lng,
        "distance_km": round(route.distance_km, 4),
        "estimated_duration_min": route.estimated_duration_min, "polyline": route.polyline,
    }


async def rebook(session: AsyncSession, user: Principal, booking_id: uuid.UUID,
                 rules: PricingRules) -> Booking:
    """A new requested booking with the same pet and addresses, priced again."""
    original = await _load(session, booking_id)
    _party(original, user, Party.OWNER)
    return await _new_booking(
        session, Actor.of(user, Party.OWNER), owner_id=original.owner_id,
        pet_spec=dict(original.pet_spec), pickup=dict(original.pickup_address),
        dropoff=dict(original.dropoff_address), rules=rules, pet_id=original.pet_id,
        notes=original.notes, rebooked_from_id=original.id)


# --- reading -------------------------------------------------------------------------------------


async def get_booking(session: AsyncSession, user: Principal, booking_id: uuid.UUID) -> Row:
    """The booking's columns (the fields of ``Booking``), for the caller to render."""
    booking = await BookingRepository(session).view(booking_id)
    if booking is None:
        raise not_found("Booking", booking_id)
    if not _may_view(booking, user):
        raise Forbidden("not your booking")
    return booking


async def list_bookings(session: AsyncSession, user: Principal, spec: BookingFilter,
                        paging: PageParams) -> tuple[list[Booking], int]:
    """Owners see theirs; runners theirs plus open jobs; admins everything."""
    repository = BookingRepository(session)
    if user.is_admin:
        scope = None
    elif user.role == "runner":
        scope = repository.runner_jobs(user.user_id)
    else:
        scope = repository.owned_by(user.user_id)
    return await repository.search(spec, paging, scope)


async def admin_list(session: AsyncSession, spec: BookingFilter, paging: PageParams
                     ) -> tuple[list[Booking], int]:
    return await BookingRepository(session).search(spec, paging)


async def stats(session: AsyncSession) -> dict:
    counts = await BookingRepository(session).count_by_status()
    by_status = {status: counts.get(status, 0) for status in BookingStatus}
    return {"total_bookings": sum(by_status.values()), "by_status": by_status}


async def history(session: AsyncSession, user: Principal, booking_id: uuid.UUID
                  ) -> list[StatusChange]:
    booking = await _load(session, booking_id)
    _party(booking, user, *ANY_PARTY)
    return await BookingRepository(session).history(booking.id)


# --- runner steps --------------------------------------------------------------------------------


async def accept(session: AsyncSession, user: Principal, booking_id: uuid.UUID) -> Booking:
    """The calling runner takes an open job; a job another runner holds is a conflict."""
    booking = await _load(session, booking_id)
    if booking.runner_id is not None and booking.runner_id != user.user_id:
        raise Conflict("booking is no longer available", "another runner accepted it")
    await _move(session, booking, S.ACCEPTED, Actor.of(user, Party.RUNNER))
    booking.runner_id = user.user_id
    booking.accepted_at = utcnow()
    await session.flush()
    await events.accepted(session, booking)
    return booking


async def decline(session: AsyncSession, user: Principal, booking_id: uuid.UUID,
                  reason: domain.DeclineReason) -> Booking:
    """The assigned runner hands an accepted job back; it is open again for other runners."""
    booking = await _load(session, booking_id)
    _party(booking, user, Party.RUNNER)
    domain.check_declinable(booking.status)
    await _move(session, booking, S.REQUESTED, Actor.of(user, Party.RUNNER), reason)
    session.add(DeclineRecord(booking_id=booking.id, runner_id=user.user_id, reason=reason))
    booking.runner_id = None
    booking.accepted_at = None
    await session.flush()
    await events.declined(session, booking, user.user_id, str(reason))
    return booking


async def pickup(session: AsyncSession, user: Principal, booking_id: uuid.UUID) -> Booking:
    booking = await _load(session, booking_id)
    _party(booking, user, Party.RUNNER)
    await _move(session, booking, S.IN_PROGRESS, Actor.of(user, Party.RUNNER))
    booking.picked_up_at = utcnow()
    await session.flush()
    await events.picked_up(session, booking)
    return booking


async def deliver(session: AsyncSession, user: Principal, booking_id: uuid.UUID) -> Booking:
    booking = await _load(session, booking_id)
    _party(booking, user, Party.RUNNER)
    await _move(session, booking, S.DELIVERED, Actor.of(user, Party.RUNNER))
    booking.delivered_at = utcnow()
    await session.flush()
    await events.delivered(session, booking)
    return booking


# --- completion and cancellation -----------------------------------------------------------------


async def confirm(session: AsyncSession, user: Principal, booking_id: uuid.UUID) -> Booking:
    """The owner confirms delivery; confirming a completed booking again changes nothing."""
    booking = await _load(session, booking_id, for_update=True)
    party = _party(booking, user, Party.OWNER, Party.ADMIN)
    if booking.status is not S.COMPLETED:
        await _complete(session, booking, Actor.of(user, party), f"confirmed by {party}")
    return booking


async def complete_on_escrow_release(session: AsyncSession, booking_id: uuid.UUID) -> None:
    """Complete a delivered booking when its escrow is released; a repeat is a no-op."""
    booking = await BookingRepository(session).get(booking_id, for_update=True)
    if booking is None:
        log.warning("escrow released for unknown booking", booking_id=str(booking_id))
        return
    if booking.status is S.DELIVERED:
        await _complete(session, booking, SYSTEM, EscrowReleased.TYPE)
    elif booking.status is not S.COMPLETED:
        log.warning("escrow released before delivery; booking left as is",
                    booking_id=str(booking_id), status=str(booking.status))


async def _complete(session: AsyncSession, booking: Booking, actor: Actor, reason: str) -> None:
    await _move(session, booking, S.COMPLETED, actor, reason)
    booking.final_price_cents = booking.estimated_price_cents
    booking.completed_at = utcnow()
    await session.flush()
    await events.completed(session, booking)


async def cancel(session: AsyncSession, user: Principal, booking_id: uuid.UUID,
                 reason: str | None) -> Booking:
    """Owner, assigned runner or admin cancel before pickup; the other party is told by event."""
    booking = await _load(session, booking_id)
    party = _party(booking, user, *ANY_PARTY)
    previous = booking.status
    await _move(session, booking, S.CANCELLED, Actor.of(user, party), reason)
    booking.cancelled_at = utcnow()
    booking.cancelled_by = user.user_id
    booking.cancel_note = reason
    await session.flush()
    await events.cancelled(session, booking, role=str(party), previous_status=str(previous))
    return booking


# --- photos --------------------------------------------------------------------------------------


async def add_photo(session: AsyncSession, user: Principal, booking_id: uuid.UUID,
                    body: PhotoCreate) -> Photo:
    booking = await _load(session, booking_id)
    party = _party(booking, user, *ANY_PARTY)
    return await _save_photo(session, booking, user, party, photo_type=body.photo_type,
                             photo_url=body.photo_url, caption=body.caption)


async def upload_photo(session: AsyncSession, storage: BlobStorage, user: Principal,
                       booking_id: uuid.UUID, *, photo_type: domain.PhotoType,
                       caption: str | None, data: bytes, max_bytes: int) -> Photo:
    """Store an uploaded JPEG, PNG or WebP (recognised by its bytes) and record it."""
    booking = await _load(session, booking_id)
    party = _party(booking, user, *ANY_PARTY)
    content_type = _check_image(data, max_bytes)
    key = f"bookings/{booking.id}/{uuid.uuid4().hex}.{domain.IMAGE_EXTENSIONS[content_type]}"
    url = await storage.put(key, data, content_type)
    return await _save_photo(session, booking, user, party, photo_type=photo_type, photo_url=url,
                             caption=caption, storage_key=key, content_type=content_type,
                             size_bytes=len(data))


def _check_image(data: bytes, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise PayloadTooLarge("photo is too large", f"the limit is {max_bytes} bytes")
    if not data:
        raise BadRequest("file is empty")
    content_type = domain.image_type(data)
    if content_type is None:
        raise BadRequest("unsupported image type", "upload a JPEG, PNG or WebP image")
    return content_type


async def _save_photo(session: AsyncSession, booking: Booking, user: Principal, party: Party,
                      **fields) -> Photo:
    photo = Photo(booking_id=booking.id, uploaded_by=user.user_id, uploaded_by_role=str(party),
                  **fields)
    session.add(photo)
    await session.flush()
    return photo


async def photos(session: AsyncSession, user: Principal, booking_id: uuid.UUID) -> list[Photo]:
    booking = await _load(session, booking_id)
    _party(booking, user, *ANY_PARTY)
    return await BookingRepository(session).photos(booking.id)
