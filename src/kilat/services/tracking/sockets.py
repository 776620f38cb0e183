"""The tracking WebSocket: admission before the upgrade, then a pump and a reader per socket."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import ValidationError
from starlette.websockets import WebSocket

from kilat.platform.errors import BadRequest, Forbidden, KilatError, NotFound, Unauthorized
from kilat.platform.geo import is_possible_position
from kilat.platform.http import error_response
from kilat.platform.models import utcnow
from kilat.platform.readthrough import from_owner, read_through
from kilat.services.tracking import frames, service
from kilat.services.tracking.domain import Fix, FrameBudget, Party, may_send_location
from kilat.services.tracking.hub import Connection, Viewer, close_quietly
from kilat.services.tracking.live import CLOSE_REVOKED, LiveTracking
from kilat.services.tracking.schemas import LocationIn

CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
DENIAL_EXTENSION = "websocket.http.response"


FRAME_CHOICES = {"location": False, "all": True}


@dataclass(frozen=True, slots=True)
class Admission:
    viewer: Viewer
    expires_at: datetime | None = None
    all_frames: bool = False


async def tracking_socket(websocket: WebSocket, booking_id: str) -> None:
    live: LiveTracking = websocket.app.state.runtime.context.live
    try:
        admission = await admit(live, websocket, booking_id)
    except KilatError as exc:
        await refuse(websocket, exc)
        return
    await websocket.accept()
    connection = Connection(websocket, admission.viewer, limit=live.settings.socket_queue_size,
                            all_frames=admission.all_frames)
    live.join(connection)
    try:
        await converse(live, connection, admission)
    finally:
        live.hub.leave(connection)
        await close_quietly(websocket, connection.close_code or CLOSE_NORMAL, connection.close_reason)


def _bearer(websocket: WebSocket) -> str | None:
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


async def admit(live: LiveTracking, websocket: WebSocket, raw_booking_id: str) -> Admission:
    """A party to the booking (``?token=``) or a valid share link for it (``?share=``).

    Membership is checked against this instance's view of the trip: every committed change,
    here or on another instance, updates it, and it is checked against the database every
    ``trip_refresh_seconds`` in case a change from another instance was lost. Before a runner
    accepts there is no trip yet: the booking's owner (or an admin) is let in from the booking
    read model and gets the positions once the trip starts.
    """
    try:
        booking_id = uuid.UUID(raw_booking_id)
    except ValueError as exc:
        raise BadRequest("invalid booking id") from exc
    all_frames = _frames_choice(websocket)
    token = websocket.query_params.get("token") or _bearer(websocket)
    share = websocket.query_params.get("share")
    if token:
        user = live.runtime.verifier.principal(token)
        trip = await live.trips.for_booking(booking_id)
        if trip is None:
            party = await _party_before_trip(live, booking_id, user, token)
        else:
            party = service.party_or_refuse(trip.snapshot.parties, user)
        return Admission(Viewer(booking_id, user_id=user.user_id, party=party.value),
                         all_frames=all_frames)
    if share:
        # the link itself is always read (it may have been revoked); the trip comes from the directory
        async with live.runtime.database.session(write=False) as session:
            shared = await service.valid_share(session, share)
        if shared.booking_id != booking_id:
            raise Forbidden("this share link is for another booking")
        if await live.trips.for_booking(booking_id) is None:
            raise service.no_trip(booking_id)
        return Admission(Viewer(booking_id, share_id=shared.id), shared.expires_at, all_frames)
    raise Unauthorized("token query parameter is required")


def _frames_choice(websocket: WebSocket) -> bool:
    """``?frames=location`` (the default: the original contract's flat location frames only) or
    ``?frames=all`` (also status, chat and heartbeat frames)."""
    choice = websocket.query_params.get("frames", "location")
    if choice not in FRAME_CHOICES:
        raise BadRequest("invalid frames", "frames must be 'location' or 'all'")
    return FRAME_CHOICES[choice]


async def _party_before_trip(live: LiveTracking, booking_id: uuid.UUID, user,
                            token: str) -> Party:
    """The owner (or an admin) before acceptance, from the booking owners read model, or from
    the booking service with the caller's token while ``booking.requested`` is on its way."""
    runtime = live.runtime
    try:
        owner_id = await read_through(
            lambda: _booking_owner(runtime, booking_id), bool,
            from_owner(runtime.infra, "booking", f"/api/v1/bookings/{booking_id}",
                       authorization=f"Bearer {token}", entity="Booking", entity_id=booking_id),
            lambda booking: _remember_owner(runtime, booking))
    except NotFound as exc:
        raise service.no_trip(booking_id) from exc
    if user.user_id == owner_id:
        return Party.OWNER
    if user.is_admin:
        return Party.ADMIN
    raise Forbidden("you are not a party to this booking")


async def _booking_owner(runtime, booking_id: uuid.UUID) -> uuid.UUID | None:
    async with runtime.database.session(write=False) as session:
        return await service.booking_owner(session, booking_id)


async def _remember_owner(runtime, booking: dict) -> uuid.UUID:
    booking_id, owner_id = uuid.UUID(booking["id"]), uuid.UUID(booking["owner_id"])
    async with runtime.database.session() as session:
        await service.remember_booking_owner(session, booking_id, owner_id,
                                             datetime.fromisoformat(booking["created_at"]))
    return owner_id


async def refuse(websocket: WebSocket, exc: KilatError) -> None:
    """Deny the upgrade with the HTTP status and envelope when the server can, else a 4xxx close."""
    if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(exc.status_code, exc.error, exc.detail))
    else:
        await websocket.close(code=4000 + exc.status_code, reason=exc.error)


async def converse(live: LiveTracking, connection: Connection, admission: Admission) -> None:
    """Run until the peer leaves, the socket is dismissed, or its share link expires."""
    jobs = [connection.pump(), read(live, connection), connection.dismissed.wait()]
    if admission.expires_at is not None:
        jobs.append(_expire(connection, admission.expires_at))
    if live.settings.socket_heartbeat_seconds > 0 and connection.all_frames:
        # a default socket keeps alive with protocol-level pings: its clients parse every frame
        jobs.append(_heartbeat(connection, live.settings.socket_heartbeat_seconds))
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _expire(connection: Connection, expires_at: datetime) -> None:
    await asyncio.sleep(max(0.0, (expires_at - utcnow()).total_seconds()))
    connection.dismiss(CLOSE_REVOKED, "share link expired")


async def _heartbeat(connection: Connection, seconds: float) -> None:
    text = json.dumps(frames.PING)
    while True:
        await asyncio.sleep(seconds)
        connection.offer(text)


async def read(live: LiveTracking, connection: Connection) -> None:
    limit = live.settings.socket_max_message_bytes
    budget = FrameBudget(live.settings.socket_locations_per_second,
                         live.settings.socket_location_burst, time.monotonic())
    while True:
        message = await connection.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", "replace")
        if len(text) > limit:
            connection.dismiss(CLOSE_TOO_BIG, "message too big")
            return
        reply = await client_frame(live, connection, text, budget)
        if reply is not None:
            connection.offer(json.dumps(reply))


async def client_frame(live: LiveTracking, connection: Connection, text: str,
                       budget: FrameBudget) -> dict | None:
    """Answer one frame from the client: ping, pong, or a runner's location."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return frames.error_frame("frames must be JSON objects")
    kind = data.get("type")
    if kind == "ping":
        return frames.PONG
    if kind == "pong":
        return None
    if kind == "location":
        if not budget.take(time.monotonic()):
            return frames.error_frame("too many locations; slow down")
        return await runner_location(live, connection, data)
    return frames.error_frame("unknown frame type; expected ping, pong or location")


async def runner_location(live: LiveTracking, connection: Connection, data: dict) -> dict | None:
    viewer = connection.viewer
    trip = live.trips.peek(viewer.booking_id)
    if trip is None or not may_send_location(trip.snapshot.parties, viewer.user_id, viewer.party):
        return frames.error_frame("only the assigned runner may send locations on an active trip")
    try:
        location = LocationIn.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in err["loc"]) for err in exc.errors()[:5])
        return frames.error_frame(f"invalid location: {fields}")
    if not is_possible_position(location.latitude, location.longitude):
        return frames.error_frame("impossible coordinates")
    await live.runner_located(trip, _fix(location), connection)
    return None


def _fix(location: LocationIn) -> Fix:
    stamp = location.timestamp or utcnow()
    stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    return Fix(location.latitude, location.longitude, stamp, speed_kmh=location.speed_kmh,
               heading_degrees=location.heading_degrees, accuracy_m=location.accuracy_m)
