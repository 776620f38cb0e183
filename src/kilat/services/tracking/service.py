"""Tracking business rules: trips from booking facts, reads, share links, chat. Never commits."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.booking import BookingFact, BookingRequested
from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Conflict, Forbidden, NotFound, not_found
from kilat.platform.models import utcnow
from kilat.platform.schemas import PageParams
from kilat.services.tracking import events
from kilat.services.tracking.domain import (
    ENDINGS,
    Effect,
    Ending,
    EndReason,
    Fix,
    GpsPolicy,
    Party,
    ShareState,
    TripParties,
    TripStatus,
    booking_effect,
    booking_status_advances,
    latest_per_trip,
    may_revoke_share,
    party_of,
    recipient_of,
    route_distance_km,
    share_lifetime,
    share_state,
    share_token_hash,
    thin_route,
)
from kilat.services.tracking.frames import TripSnapshot
from kilat.services.tracking.models import ChatMessage, SharedTrip, Trip
from kilat.services.tracking.repository import (
    BookingOwners,
    ChatMessages,
    ChatReads,
    Shares,
    Trips,
    Waypoints,
)
from kilat.services.tracking.schemas import (
    ChatMessageCreate,
    ChatUnread,
    LineString,
    Position,
    ShareCreate,
    SharedTracking,
    SharedWaypoint,
    Tracking,
    Waypoint,
)
from kilat.services.tracking.settings import TrackingSettings

SKEW = GpsPolicy().clock_skew
SHARE_TOKEN = re.compile(r"^[0-9a-f]{32}$")

PendingWaypoints = Callable[[uuid.UUID], list[dict]]


# --- trips from booking facts --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookingFacts:
    """The part of a ``booking.*`` event the tracking service keeps."""

    booking_id: uuid.UUID
    booking_number: str | None
    owner_id: uuid.UUID
    runner_id: uuid.UUID | None
    status: str
    occurred_at: datetime
    accepted_at: datetime | None = None
    declined_by: uuid.UUID | None = None

    @classmethod
    def of(cls, fact: BookingFact, fallback_time: datetime) -> BookingFacts:
        if fact.owner_id is None:
            raise ValueError(f"{fact.TYPE} of booking {fact.booking_id} names no owner")
        return cls(
            booking_id=fact.booking_id,
            booking_number=fact.booking_number,
            owner_id=fact.owner_id,
            runner_id=fact.runner_id,
            status=fact.status or "",
            occurred_at=fact.occurred_at or fallback_time,
            accepted_at=getattr(fact, "accepted_at", None),
            declined_by=getattr(fact, "declined_by", None),
        )


@dataclass(frozen=True, slots=True)
class TripChange:
    """A committed change the live rooms must hear about."""

    snapshot: TripSnapshot
    dismissed_runner: uuid.UUID | None = None


async def apply_booking_fact(session: AsyncSession, event_type: str, facts: BookingFacts,
                             pending: PendingWaypoints) -> list[TripChange]:
    """Start, end or annotate the booking's trip; safe when the same fact arrives twice."""
    if event_type == BookingRequested.TYPE:
        await BookingOwners(session).remember(facts.booking_id, facts.owner_id, facts.occurred_at)
        return []
    effect = booking_effect(event_type)
    if effect is Effect.START:
        return await _start(session, facts, pending)
    if effect is Effect.END:
        return await _finish(session, ENDINGS[event_type], facts, pending)
    return await _note(session, facts)


async def _start(session: AsyncSession, facts: BookingFacts,
                 pending: PendingWaypoints) -> list[TripChange]:
    if facts.runner_id is None:
        return []
    trips = Trips(session)
    accepted_at = facts.accepted_at or facts.occurred_at
    if await trips.by_acceptance(facts.booking_id, facts.runner_id, accepted_at) is not None:
        return []
    changes = []
    active = await trips.active_for_booking(facts.booking_id)
    if active is not None:
        if active.runner_id == facts.runner_id:
            return []
        ending = Ending(TripStatus.CANCELLED, EndReason.REASSIGNED)
        changes.append(await _end(session, active, ending, facts, pending))
    trip = Trip(
        booking_id=facts.booking_id, booking_number=facts.booking_number, owner_id=facts.owner_id,
        runner_id=facts.runner_id, status=TripStatus.ACTIVE, booking_status=facts.status or "accepted",
        accepted_at=accepted_at, started_at=accepted_at,
    )
    session.add(trip)
    await session.flush()
    await events.started(session, trip)
    return [*changes, TripChange(TripSnapshot.of(trip))]


async def _finish(session: AsyncSession, ending: Ending, facts: BookingFacts,
                  pending: PendingWaypoints) -> list[TripChange]:
    trip = await Trips(session).active_for_booking(facts.booking_id)
    if trip is None:
        return await _note(session, facts)
    if ending.reason is EndReason.DECLINED and facts.declined_by not in (None, trip.runner_id):
        return []
    return [await _end(session, trip, ending, facts, pending)]


async def _end(session: AsyncSession, trip: Trip, ending: Ending, facts: BookingFacts,
               pending: PendingWaypoints) -> TripChange:
    store = Waypoints(session)
    # pings still waiting for the batch writer count towards the distance
    await store.insert_many(pending(trip.id))
    trip.total_distance_km = route_distance_km(await store.path(trip, SKEW))
    trip.status = ending.status
    trip.end_reason = ending.reason
    trip.booking_status = facts.status or trip.booking_status
    if ending.status is TripStatus.COMPLETED:
        trip.completed_at = facts.occurred_at
    else:
        trip.cancelled_at = facts.occurred_at
    await session.flush()
    await events.ended(session, trip)
    dismissed = trip.runner_id if ending.reason is EndReason.DECLINED else None
    return TripChange(TripSnapshot.of(trip), dismissed_runner=dismissed)


async def _note(session: AsyncSession, facts: BookingFacts) -> list[TripChange]:
    trip = await Trips(session).latest_for_booking(facts.booking_id)
    if trip is None or not booking_status_advances(trip.booking_status, facts.status):
        return []
    trip.booking_status = facts.status
    await session.flush()
    return [TripChange(TripSnapshot.of(trip))]


async def persist_waypoints(session: AsyncSession, rows: list[dict], *, now: datetime,
                            update_interval: timedelta, updates_per_batch: int) -> None:
    """Store one batch of accepted pings; trips due a ``tracking.updated`` event (at most one per
    interval, whichever instance claims it) get it, and their last known position moves."""
    await Waypoints(session).insert_many(rows)
    latest = latest_per_trip(rows)
    trips = Trips(session)
    due = await trips.claim_update_events(list(latest), now, update_interval, updates_per_batch)
    await trips.record_positions([latest[trip_id] for trip_id in due])
    for trip_id, owner_id in due.items():
        await events.updated(session, latest[trip_id] | {"owner_id": owner_id})


def fix_of(row) -> Fix | None:
    if row is None:
        return None
    return Fix(row.latitude, row.longitude, row.recorded_at, row.speed_kmh, row.heading_degrees,
               row.accuracy_m)


async def active_snapshots(session: AsyncSession, now: datetime,
                           chunk: int = 5000) -> list[TripSnapshot]:
    """Every active trip with its latest stored position (what a starting instance needs)."""
    trips = await Trips(session).all_active()
    since = now - GpsPolicy().max_age
    snapshots = []
    for start in range(0, len(trips), chunk):
        part = trips[start:start + chunk]
        latest = await Waypoints(session).latest_of([t.id for t in part], since)
        snapshots += [TripSnapshot.of(t, fix_of(latest.get(t.id))) for t in part]
    return snapshots


async def snapshot(session: AsyncSession, trip: Trip) -> TripSnapshot:
    """The trip with its latest stored position."""
    return TripSnapshot.of(trip, fix_of(await Waypoints(session).latest(trip, SKEW)))


# --- reads ---------------------------------------------------------------------------------------


async def booking_owner(session: AsyncSession, booking_id: uuid.UUID) -> uuid.UUID | None:
    """The owner of a requested booking, known before any runner accepts it."""
    return await BookingOwners(session).owner_of(booking_id)


async def remember_booking_owner(session: AsyncSession, booking_id: uuid.UUID,
                                 owner_id: uuid.UUID, requested_at: datetime) -> None:
    """What ``booking.requested`` will say, learnt first from the booking service."""
    await BookingOwners(session).remember(booking_id, owner_id, requested_at)


def no_trip(booking_id: uuid.UUID) -> NotFound:
    return NotFound("tracking not found", f"no trip for booking '{booking_id}' yet")


def party_or_refuse(parties: TripParties, user: Principal) -> Party:
    party = party_of(parties, user.user_id, user.role)
    if party is None:
        raise Forbidden("you are not a party to this booking")
    return party


async def trip_for(session: AsyncSession, booking_id: uuid.UUID, user: Principal) -> tuple[Trip, Party]:
    """The booking's current trip and the caller's part in it (owner, runner or admin)."""
    trip = await Trips(session).latest_for_booking(booking_id)
    if trip is None:
        raise no_trip(booking_id)
    return trip, party_or_refuse(trip.parties, user)


async def distance_km(session: AsyncSession, trip: Trip) -> float:
    if trip.status != TripStatus.ACTIVE and trip.total_distance_km is not None:
        return trip.total_distance_km
    return route_distance_km(await Waypoints(session).path(trip, SKEW))


async def tracking_view(session: AsyncSession, trip: Trip, waypoint_limit: int) -> Tracking:
    store = Waypoints(session)
    rows = await store.last(trip, SKEW, waypoint_limit)
    return Tracking(
        id=trip.id, booking_id=trip.booking_id, booking_number=trip.booking_number,
        owner_id=trip.owner_id, runner_id=trip.runner_id, status=trip.status,
        booking_status=trip.booking_status, end_reason=trip.end_reason,
        total_distance_km=await distance_km(session, trip), started_at=trip.started_at,
        completed_at=trip.completed_at, cancelled_at=trip.cancelled_at,
        latest_position=Position.model_validate(rows[-1]) if rows else None,
        waypoint_count=await store.count(trip, SKEW),
        waypoints=[Waypoint.model_validate(row) for row in rows],
    )


async def route(session: AsyncSession, trip: Trip, max_points: int) -> LineString:
    path = thin_route(await Waypoints(session).path(trip, SKEW), max_points)
    return LineString(coordinates=[[lng, lat] for lat, lng in path])


# --- share links ---------------------------------------------------------------------------------


async def create_share(session: AsyncSession, booking_id: uuid.UUID, user: Principal,
                       body: ShareCreate, settings: TrackingSettings) -> tuple[SharedTrip, str]:
    """A read-only link to the booking's live trip; returns the link and its one-time token."""
    trip, _party = await trip_for(session, booking_id, user)
    try:
        lifetime = share_lifetime(body.expires_in_hours, settings.share_ttl_hours,
                                  settings.share_max_ttl_hours)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    now = utcnow()
    if await Shares(session).count_live(booking_id, now) >= settings.max_active_shares:
        raise Conflict("too many active share links", "revoke one before creating another")
    token = secrets.token_hex(16)
    share = SharedTrip(booking_id=booking_id, token_hash=share_token_hash(token),
                       created_by=user.user_id, expires_at=now + lifetime)
    session.add(share)
    await session.flush()
    await events.share_created(session, share, trip)
    return share, token


async def list_shares(session: AsyncSession, booking_id: uuid.UUID, user: Principal) -> list[SharedTrip]:
    await trip_for(session, booking_id, user)
    return await Shares(session).for_booking(booking_id)


async def revoke_share(session: AsyncSession, booking_id: uuid.UUID, share_id: uuid.UUID,
                       user: Principal) -> SharedTrip:
    """Revoke a link (again is harmless); the creator, the owner or an admin may."""
    _trip, party = await trip_for(session, booking_id, user)
    share = await Shares(session).get(share_id)
    if share is None or share.booking_id != booking_id:
        raise not_found("Share link", share_id)
    if not may_revoke_share(share.created_by, party, user.user_id):
        raise Forbidden("only the owner or the link's creator may revoke it")
    if share.revoked_at is None:
        share.revoked_at = utcnow()
        share.revoked_by = user.user_id
        await session.flush()
    return share


async def open_share(session: AsyncSession, token: str) -> tuple[SharedTrip, Trip]:
    """The share link behind ``token`` and its trip, while the link is valid."""
    share = await valid_share(session, token)
    trip = await Trips(session).latest_for_booking(share.booking_id)
    if trip is None:
        raise NotFound("tracking data not found")
    return share, trip


async def valid_share(session: AsyncSession, token: str) -> SharedTrip:
    """The share link behind ``token`` while it is valid (neither expired nor revoked)."""
    share = None
    if SHARE_TOKEN.match(token):
        share = await Shares(session).by_token_hash(share_token_hash(token))
    if share is None:
        raise NotFound("share link not found")
    state = share_state(share.expires_at, share.revoked_at, utcnow())
    if state is ShareState.EXPIRED:
        raise NotFound("share link has expired")
    if state is ShareState.REVOKED:
        raise NotFound("share link has been revoked")
    return share


# --- chat ----------------------------------------------------------------------------------------


async def send_message(session: AsyncSession, booking_id: uuid.UUID, user: Principal,
                       body: ChatMessageCreate) -> ChatMessage:
    trip, party = await trip_for(session, booking_id, user)
    message = ChatMessage(
        booking_id=booking_id, trip_id=trip.id, sender_id=user.user_id, sender_role=party.value,
        recipient_id=recipient_of(party, trip.parties), message_type=body.message_type.value,
        content=body.content,
    )
    session.add(message)
    await session.flush()
    await events.chat_message_sent(session, message)
    return message


async def messages_page(session: AsyncSession, booking_id: uuid.UUID, user: Principal,
                        paging: PageParams) -> tuple[list[ChatMessage], int]:
    await trip_for(session, booking_id, user)
    return await ChatMessages(session).page(booking_id, paging.offset, paging.limit)


async def unread(session: AsyncSession, booking_id: uuid.UUID, user: Principal) -> ChatUnread:
    await trip_for(session, booking_id, user)
    last_read = await ChatReads(session).last_read_at(booking_id, user.user_id)
    count = await ChatMessages(session).unread(booking_id, user.user_id, last_read)
    return ChatUnread(booking_id=booking_id, unread_count=count, last_read_at=last_read)


async def mark_read(session: AsyncSession, booking_id: uuid.UUID, user: Principal) -> ChatUnread:
    """Everything posted so far counts as read by the caller."""
    await trip_for(session, booking_id, user)
    newest = await ChatMessages(session).newest_at(booking_id)
    if newest is not None:
        await ChatReads(session).mark(booking_id, user.user_id, newest)
    return await unread(session, booking_id, user)


def share_links(booking_id: uuid.UUID, token: str) -> dict[str, str]:
    return {"share_url": f"/api/v1/tracking/shared/{token}",
            "ws_url": f"/ws/tracking/{booking_id}?share={token}"}


async def shared_view(session: AsyncSession, share: SharedTrip, trip: Trip, token: str,
                      waypoint_limit: int) -> SharedTracking:
    """The read-only view a share link opens: positions and status, no personal ids."""
    rows = await Waypoints(session).last(trip, SKEW, waypoint_limit)
    return SharedTracking(
        booking_id=trip.booking_id, status=trip.status, booking_status=trip.booking_status,
        latest_position=SharedWaypoint.model_validate(rows[-1]) if rows else None,
        waypoints=[SharedWaypoint.model_validate(row) for row in rows],
        expires_at=share.expires_at, ws_url=share_links(trip.booking_id, token)["ws_url"],
    )
