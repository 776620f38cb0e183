"""Tracking routes: trips and routes, share links, chat, and the live WebSocket."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Query, WebSocket
from fastapi.responses import JSONResponse
from starlette.routing import WebSocketRoute

from kilat.platform.auth import CurrentUser
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, Page, Paging, error_responses, ok, page_of
from kilat.services.tracking import service
from kilat.services.tracking.frames import chat_frame
from kilat.platform.db import after_commit
from kilat.services.tracking.context import Ctx
from kilat.services.tracking.schemas import (
    ChatMessage,
    ChatMessageCreate,
    ChatUnread,
    LineString,
    ShareCreate,
    SharedTracking,
    SharedTrip,
    SharedTripCreated,
    Tracking,
)
from kilat.services.tracking.sockets import tracking_socket


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


def geojson_errors(*codes: int) -> dict[int | str, dict]:
    """Error entries for a GeoJSON route: errors stay ``application/json`` envelopes (the other
    routes register ``ErrorBody`` in the components)."""
    schema = {"$ref": "#/components/schemas/ErrorBody"}
    return {code: {"description": "error", "content": {"application/json": {"schema": schema}}}
            for code in codes}


WaypointLimit = Annotated[int | None, Query(ge=1, le=5000, description="how many of the last "
                                            "waypoints to return (service default 500)")]
MEMBER_ERRORS = error_responses(400, 401, 403, 404)

tracking = APIRouter(prefix="/api/v1/tracking", tags=["tracking"])
chat = APIRouter(prefix="/api/v1/chat", tags=["chat"])
sockets = APIRouter(tags=["tracking"])


def _shared_trip(share) -> SharedTrip:
    return SharedTrip.model_validate(share)


@tracking.get("/shared/{token}", response_model=Envelope[SharedTracking],
              responses=error_responses(400, 404))
async def shared_tracking(token: str, session: Session, context: Ctx,
                          waypoints: WaypointLimit = None) -> dict:
    """Public, read-only: the trip behind a share link while the link is valid."""
    share, trip = await service.open_share(session, token)
    limit = waypoints or context.settings.waypoint_default_limit
    return ok(await service.shared_view(session, share, trip, token, limit))


@tracking.get("/shared/{token}/route", response_model=LineString, response_class=GeoJSONResponse,
              responses=geojson_errors(404))
async def shared_route(token: str, session: Session, context: Ctx) -> LineString:
    _share, trip = await service.open_share(session, token)
    return await service.route(session, trip, context.settings.route_max_points)


@tracking.get("/{booking_id}", response_model=Envelope[Tracking], responses=MEMBER_ERRORS)
async def get_tracking(booking_id: uuid.UUID, session: Session, user: CurrentUser, context: Ctx,
                       waypoints: WaypointLimit = None) -> dict:
    trip, _party = await service.trip_for(session, booking_id, user)
    limit = waypoints or context.settings.waypoint_default_limit
    return ok(await service.tracking_view(session, trip, limit))


@tracking.get("/{booking_id}/route", response_model=LineString, response_class=GeoJSONResponse,
              responses=geojson_errors(400, 401, 403, 404))
async def get_route(booking_id: uuid.UUID, session: Session, user: CurrentUser,
                    context: Ctx) -> LineString:
    """The trip's path as a GeoJSON LineString ([longitude, latitude] pairs), not enveloped."""
    trip, _party = await service.trip_for(session, booking_id, user)
    return await service.route(session, trip, context.settings.route_max_points)


@tracking.post("/{booking_id}/share", status_code=201, response_model=Envelope[SharedTripCreated],
               responses=error_responses(400, 401, 403, 404, 409))
async def create_share(booking_id: uuid.UUID, session: Session, user: CurrentUser, context: Ctx,
                       body: Annotated[ShareCreate | None, Body()] = None) -> dict:
    share, token = await service.create_share(session, booking_id, user, body or ShareCreate(),
                                              context.settings)
    created = SharedTripCreated(**_shared_trip(share).model_dump(), share_token=token,
                                **service.share_links(booking_id, token))
    return ok(created)


@tracking.get("/{booking_id}/shares", response_model=Envelope[list[SharedTrip]],
              responses=MEMBER_ERRORS)
async def list_shares(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    shares = await service.list_shares(session, booking_id, user)
    return ok([_shared_trip(share) for share in shares])


@tracking.delete("/{booking_id}/shares/{share_id}", response_model=Envelope[SharedTrip],
                 responses=MEMBER_ERRORS)
async def revoke_share(booking_id: uuid.UUID, share_id: uuid.UUID, session: Session,
                       user: CurrentUser, context: Ctx) -> dict:
    """The link stops working at once, and sockets opened with it are closed."""
    share = await service.revoke_share(session, booking_id, share_id, user)
    after_commit(session, lambda: context.live.share_revoked(booking_id, share_id))
    return ok(_shared_trip(share))


@chat.post("/{booking_id}/messages", status_code=201, response_model=Envelope[ChatMessage],
           responses=MEMBER_ERRORS)
async def send_message(booking_id: uuid.UUID, body: ChatMessageCreate, session: Session,
                       user: CurrentUser, context: Ctx) -> dict:
    message = await service.send_message(session, booking_id, user, body)
    frame = chat_frame(message)
    after_commit(session, lambda: context.live.chat_posted(frame))
    return ok(ChatMessage.model_validate(message))


@chat.get("/{booking_id}/messages", response_model=Page[ChatMessage], responses=MEMBER_ERRORS)
async def list_messages(booking_id: uuid.UUID, session: Session, user: CurrentUser,
                        paging: Paging) -> dict:
    """Oldest first."""
    messages, total = await service.messages_page(session, booking_id, user, paging)
    return page_of([ChatMessage.model_validate(m) for m in messages], total, paging)


@chat.get("/{booking_id}/unread", response_model=Envelope[ChatUnread], responses=MEMBER_ERRORS)
async def unread_count(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    return ok(await service.unread(session, booking_id, user))


@chat.post("/{booking_id}/read", response_model=Envelope[ChatUnread], responses=MEMBER_ERRORS)
async def mark_read(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    return ok(await service.mark_read(session, booking_id, user))


async def live_tracking(websocket: WebSocket) -> None:
    """``?token=<access JWT>`` for the owner, runner or an admin; ``?share=<token>`` read-only."""
    await tracking_socket(websocket, websocket.path_params["booking_id"])


# a plain Starlette route: the socket needs no dependency injection, and opening one stays cheap
sockets.routes.append(WebSocketRoute("/ws/tracking/{booking_id}", live_tracking))


routers = [tracking, chat, sockets]
