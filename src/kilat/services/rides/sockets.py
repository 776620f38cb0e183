"""The rides WebSocket, ``/ws/rides``: ``{event, data}`` frames both ways.

Server to client: stored frames carry ``seq`` (offers, matches, ride steps; a socket opened with
``?since=<seq>`` first gets those it missed), ``driver_location`` is live only, ``heartbeat``
every ``KILAT_RIDES_SOCKET_HEARTBEAT_SECONDS``. Client to server: ``{id?, event, data}``; every
request gets ``{event: "ack", data: {id, event, ok, result | status, error, detail}}``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.websockets import WebSocket

from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Forbidden, KilatError, Unauthorized
from kilat.platform.http import error_response
from kilat.platform.models import utcnow
from kilat.platform.ratelimit import TokenBucket
from kilat.services.rides import schemas
from kilat.services.rides.drivers import DriverProfiles
from kilat.services.rides.hub import CLOSE_NORMAL, CLOSE_TOO_BIG, Connection, close_quietly
from kilat.services.rides.matching import Matching
from kilat.services.rides.repository import Frames
from kilat.services.rides.trips import Trips
from kilat.services.rides.views import request_view, ride_view

ROLES = ("passenger", "driver")
SUBPROTOCOL = "bearer"
DENIAL_EXTENSION = "websocket.http.response"


async def rides_socket(websocket: WebSocket) -> None:
    context = websocket.app.state.runtime.context
    live = context.live
    try:
        user, since = await admit(websocket, live)
    except KilatError as exc:
        await refuse(websocket, exc)
        return
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    connection = Connection(websocket, user.user_id, user.role,
                            limit=context.settings.socket_queue_size, since=since)
    live.hub.join(connection)
    try:
        connection.offer({"event": "welcome", "data": {
            "user_id": str(user.user_id), "role": user.role, "since": since,
            "heartbeat_seconds": context.settings.socket_heartbeat_seconds}})
        connection.replayed(await live.replay(user.user_id, since))
        await converse(context, connection, user)
    finally:
        live.hub.leave(connection)
        await close_quietly(websocket, connection.close_code or CLOSE_NORMAL,
                            connection.close_reason)


def _token(websocket: WebSocket) -> str | None:
    if token := websocket.query_params.get("token"):
        return token
    scheme, _, token = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token
    protocols = websocket.scope.get("subprotocols") or []
    if SUBPROTOCOL in protocols and protocols.index(SUBPROTOCOL) + 1 < len(protocols):
        return protocols[protocols.index(SUBPROTOCOL) + 1]
    return None


async def admit(websocket: WebSocket, live) -> tuple[Principal, int]:
    """A passenger or driver with a valid token (query ``token``, ``Authorization: Bearer`` or
    the ``bearer, <token>`` subprotocols); ``since`` the last frame the client holds."""
    token = _token(websocket)
    if not token:
        raise Unauthorized("token query parameter is required")
    user = live.runtime.verifier.principal(token)
    if user.role not in ROLES:
        raise Forbidden("the rides socket is for passengers and drivers")
    raw = websocket.query_params.get("since")
    if raw is None:
        async with live.runtime.database.session(write=False) as session:
            return user, await Frames(session).latest_seq(user.user_id)
    try:
        since = int(raw)
    except ValueError as exc:
        raise BadRequest("since must be a frame sequence number") from exc
    if since < 0:
        raise BadRequest("since must be a frame sequence number")
    return user, since


async def refuse(websocket: WebSocket, exc: KilatError) -> None:
    if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(exc.status_code, exc.error, exc.detail))
    else:
        await websocket.close(code=4000 + exc.status_code, reason=exc.error)


async def converse(context, connection: Connection, user: Principal) -> None:
    jobs = [connection.pump(), read(context, connection, user), connection.dismissed.wait(),
            _heartbeat(connection, context.settings.socket_heartbeat_seconds)]
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _heartbeat(connection: Connection, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        connection.offer({"event": "heartbeat", "data": {"at": utcnow().isoformat()}})


async def read(context, connection: Connection, user: Principal) -> None:
    settings = context.settings
    limit = settings.socket_max_message_bytes
    budget = TokenBucket(settings.socket_requests_per_second, settings.socket_request_burst,
                         time.monotonic())
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
        if not budget.take(time.monotonic()):
            connection.offer(_error("too_many_requests", "slow down: too many frames"))
            continue
        reply = await answer(context, user, text)
        if reply is not None:
            connection.offer(reply)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"event": "error", "data": {"code": code, "message": message}}


async def answer(context, user: Principal, text: str) -> dict[str, Any] | None:
    """The reply to one client frame: an ack for a request, an error frame for garbage."""
    try:
        request = json.loads(text)
    except ValueError:
        request = None
    if not isinstance(request, dict) or not isinstance(request.get("event"), str):
        return _error("invalid_format", "frames are JSON objects {id?, event, data}")
    event, ref, data = request["event"], request.get("id"), request.get("data") or {}
    if event in ("pong", "heartbeat"):
        return None
    action = ACTIONS.get(event)
    if action is None:
        return _nack(ref, event, BadRequest("unknown event", f"known: {', '.join(ACTIONS)}"))
    if not isinstance(data, dict):
        return _nack(ref, event, BadRequest("data must be an object"))
    try:
        result = await action(context, user, data)
    except KilatError as exc:
        return _nack(ref, event, exc)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or e["msg"] for e in exc.errors()[:5])
        return {"event": "ack", "data": {"id": ref, "event": event, "ok": False, "status": 422,
                                         "error": "invalid data", "detail": fields}}
    return {"event": "ack", "data": {"id": ref, "event": event, "ok": True, "result": result}}


def _nack(ref: Any, event: str, exc: KilatError) -> dict[str, Any]:
    return {"event": "ack", "data": {"id": ref, "event": event, "ok": False,
                                     "status": exc.status_code, "error": exc.error,
                                     "detail": exc.detail}}


def _need(user: Principal, role: str) -> None:
    if user.role != role:
        raise Forbidden("insufficient permissions")


def _id(data: dict, key: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(data[key]))
    except (KeyError, ValueError) as exc:
        raise BadRequest(f"{key} must be an id") from exc


def _jsonable(model: BaseModel | dict) -> dict:
    return json.loads(json.dumps(model, default=str))


async def _unit(context, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async with context.live.runtime.database.session() as session:
        return await work(session)


async def _ping(context, user, data) -> dict:
    return {"pong": utcnow().isoformat()}


async def _beacon(context, user, data) -> dict:
    _need(user, "driver")
    body = schemas.Beacon.model_validate(data)

    async def work(session):
        driver = await DriverProfiles(session, context, utcnow()).beacon(user, body)
        return {"available": driver.available, "beacon_at": driver.beacon_at.isoformat()}
    return await _unit(context, work)


async def _location(context, user, data) -> dict:
    ride_id = _id(data, "ride_id")
    body = schemas.Location.model_validate({k: v for k, v in data.items() if k != "ride_id"})
    return _jsonable(await _unit(context, lambda s: Trips(s, context, utcnow()).locate(
        user, ride_id, body)))


async def _accept(context, user, data) -> dict:
    _need(user, "driver")
    offer_id = _id(data, "offer_id")

    async def work(session):
        matcher = Matching(session, context, utcnow())
        return await matcher.shown(await matcher.accept(user, offer_id))
    return _jsonable(await _unit(context, work))


async def _reject(context, user, data) -> dict:
    _need(user, "driver")
    offer_id = _id(data, "offer_id")
    return _jsonable(await _unit(context, lambda s: Matching(s, context, utcnow()).reject(
        user, offer_id)))


async def _confirm(context, user, data) -> dict:
    _need(user, "passenger")
    request_id = _id(data, "request_id")

    async def work(session):
        return ride_view(await Matching(session, context, utcnow()).confirm(user, request_id))
    return await _unit(context, work)


async def _cancel(context, user, data) -> dict:
    request_id = _id(data, "request_id")
    reason = schemas.Cancel.model_validate({"reason": data.get("reason") or ""}).reason

    async def work(session):
        request = await Matching(session, context, utcnow()).cancel(user, request_id, reason)
        return request_view(request)
    return await _unit(context, work)


ACTIONS: dict[str, Callable[..., Awaitable[dict]]] = {
    "ping": _ping, "beacon": _beacon, "location": _location, "accept_offer": _accept,
    "reject_offer": _reject, "confirm": _confirm, "cancel": _cancel,
}
