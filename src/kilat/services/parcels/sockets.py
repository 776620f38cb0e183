"""``/ws/parcels/{tracking_number}?session=TOKEN``: a customer's live view of one shipment.

Admission reads the tracking session: it must exist, belong to the order of that tracking number,
be neither revoked nor expired. The socket then gets the room's frames (the courier's positions,
status changes) until the peer leaves, the session expires, or it is revoked on any instance.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime

from starlette.websockets import WebSocket

from kilat.platform.errors import BadRequest, Forbidden, KilatError, NotFound, Unauthorized
from kilat.platform.http import error_response
from kilat.platform.models import utcnow
from kilat.services.parcels.live import CLOSE_EXPIRED, CLOSE_NORMAL, LiveParcels, Viewer
from kilat.services.parcels.repository import Sessions, Shipments

DENIAL_EXTENSION = "websocket.http.response"


async def tracking_socket(websocket: WebSocket, tracking_number: str) -> None:
    live: LiveParcels = websocket.app.state.runtime.context.live
    try:
        token, expires_at, snapshot = await admit(live, websocket, tracking_number)
    except KilatError as exc:
        await refuse(websocket, exc)
        return
    await websocket.accept()
    viewer = Viewer(websocket, tracking_number, token, expires_at, live.settings.socket_queue_size)
    live.join(viewer)
    viewer.offer(json.dumps(snapshot))
    try:
        await _converse(viewer)
    finally:
        live.leave(viewer)
        try:
            await websocket.close(code=viewer.close_code or CLOSE_NORMAL, reason=viewer.close_reason)
        except Exception:  # noqa: S110 - the peer is already gone
            pass


async def admit(live: LiveParcels, websocket: WebSocket,
                tracking_number: str) -> tuple[str, datetime, dict]:
    raw = websocket.query_params.get("session")
    if not raw:
        raise Unauthorized("session query parameter is required",
                           "open one with POST /api/v1/parcels/orders/{id}/tracking-sessions")
    try:
        token = uuid.UUID(raw)
    except ValueError as exc:
        raise BadRequest("invalid session token") from exc
    async with live.runtime.database.session(write=False) as session:
        tracking = await Sessions(session).by_token(token)
        shipment = await Shipments(session).by_tracking_number(tracking_number)
    if tracking is None or shipment is None:
        raise NotFound("tracking session not found")
    if tracking.order_id != shipment.order_id:
        raise Forbidden("this session is for another shipment")
    now = utcnow()
    if tracking.revoked_at is not None or tracking.closed_at is not None:
        raise Unauthorized("tracking session revoked")
    if tracking.expires_at <= now:
        raise Unauthorized("tracking session expired")
    snapshot = {"type": "snapshot", "tracking_number": tracking_number, "status": shipment.status,
                "expires_at": tracking.expires_at.isoformat()}
    return str(token), tracking.expires_at, snapshot


async def refuse(websocket: WebSocket, exc: KilatError) -> None:
    """Deny the upgrade with the HTTP status and envelope when the server can, else close 4xxx."""
    if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(exc.status_code, exc.error, exc.detail))
    else:
        await websocket.close(code=4000 + exc.status_code, reason=exc.error)


async def _converse(viewer: Viewer) -> None:
    async def read() -> None:
        while True:
            message = await viewer.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return

    async def expire() -> None:
        await asyncio.sleep(max(0.0, (viewer.expires_at - utcnow()).total_seconds()))
        viewer.dismiss(CLOSE_EXPIRED, "tracking session expired")

    tasks = [asyncio.ensure_future(job) for job in (viewer.pump(), read(), expire())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
