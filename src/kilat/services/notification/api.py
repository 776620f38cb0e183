"""Notification routes: the user's inbox and preferences, and the admin delivery queue."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.errors import NotFound
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, Message, Page, Paging, error_responses, ok, page_of
from kilat.services.notification import schemas
from kilat.services.notification.delivery import REDACTED, DeliveryQueue
from kilat.services.notification.context import Ctx
from kilat.services.notification.domain import Channel, DeliveryStatus
from kilat.services.notification.models import Delivery, Notification
from kilat.services.notification.repository import SinkMessages
from kilat.services.notification.service import InboxService, PreferenceService
from kilat.services.notification.sink import recipient_forms

CURSOR_MAX_LIMIT = 50


Admin = RequireRole("admin")

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
admin_router = APIRouter(prefix="/api/v1/admin/notifications", tags=["notifications admin"])


def _out(notification: Notification) -> schemas.Notification:
    return schemas.Notification.model_validate(
        {**{c: getattr(notification, c) for c in schemas.Notification.model_fields
            if c != "type"}, "type": notification.event_type})


def _delivery(delivery: Delivery) -> schemas.Delivery:
    shown = schemas.Delivery.model_validate(delivery)
    return shown.model_copy(update={"body": REDACTED}) if delivery.sensitive else shown


def _item(notification: Notification) -> schemas.NotificationItem:
    return schemas.NotificationItem(id=notification.id, type=notification.event_type,
                                    title=notification.title, body=notification.body,
                                    created_at=notification.created_at,
                                    read_at=notification.read_at)


@router.get("", response_model=Page[schemas.Notification] | schemas.NotificationCursorPage,
            responses=error_responses(400, 401),
            summary="List my notifications, newest first (page form, or cursor form with ?cursor=)")
async def list_notifications(
    session: Session, user: CurrentUser, paging: Paging,
    cursor: Annotated[str | None, Query(description="opaque; empty for the first page")] = None,
    unread: Annotated[bool | None, Query(description="only unread (true) or read (false)")] = None,
) -> dict:
    inbox = InboxService(session)
    if cursor is not None:
        rows, next_cursor = await inbox.after_cursor(user.user_id, cursor,
                                                     min(paging.limit, CURSOR_MAX_LIMIT))
        return {"success": True, "items": [_item(n) for n in rows], "next_cursor": next_cursor}
    rows, total = await inbox.page(user.user_id, paging.offset, paging.limit, unread)
    return page_of([_out(n) for n in rows], total, paging)


@router.get("/unread-count", response_model=Envelope[schemas.UnreadCount],
            responses=error_responses(401))
async def unread_count(session: Session, user: CurrentUser) -> dict:
    return ok({"count": await InboxService(session).unread_count(user.user_id)})


@router.put("/read-all", response_model=Envelope[schemas.ReadAll], responses=error_responses(401))
async def mark_all_read(session: Session, user: CurrentUser, context: Ctx) -> dict:
    updated = await InboxService(session).mark_all_read(user.user_id, context.now())
    return ok({"updated": updated})


@router.post("/read-all", response_model=Envelope[schemas.ReadAll], responses=error_responses(401),
             summary="Mark all read (POST form)")
async def mark_all_read_post(session: Session, user: CurrentUser, context: Ctx) -> dict:
    return await mark_all_read(session, user, context)


@router.get("/preferences", response_model=Envelope[schemas.Preference],
            responses=error_responses(401))
async def get_preferences(session: Session, user: CurrentUser, context: Ctx) -> dict:
    view = await PreferenceService(session, context.settings).view(user.user_id)
    return ok(schemas.Preference.model_validate(view))


@router.put("/preferences", response_model=Envelope[schemas.Preference],
            responses=error_responses(400, 401, 409))
async def update_preferences(body: schemas.PreferenceUpdate, session: Session, user: CurrentUser,
                             context: Ctx) -> dict:
    view = await PreferenceService(session, context.settings).update(user.user_id, body)
    return ok(schemas.Preference.model_validate(view))


@router.post("/fcm-token", response_model=Envelope[Message], responses=error_responses(400, 401))
async def register_fcm_token(body: schemas.FcmToken, session: Session, user: CurrentUser,
                             context: Ctx) -> dict:
    await PreferenceService(session, context.settings).register_token(user.user_id, body.token)
    return ok({"message": "FCM token registered"})


@router.get("/{notification_id}", response_model=Envelope[schemas.Notification],
            responses=error_responses(400, 401, 403, 404))
async def get_notification(notification_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    return ok(_out(await InboxService(session).get(notification_id, user)))


@router.put("/{notification_id}/read", response_model=Envelope[Message],
            responses=error_responses(400, 401, 403, 404))
async def mark_read(notification_id: uuid.UUID, session: Session, user: CurrentUser,
                    context: Ctx) -> dict:
    await InboxService(session).mark_read(notification_id, user, context.now())
    return ok({"message": "notification marked as read"})


@router.post("/{notification_id}/read", response_model=Envelope[Message],
             responses=error_responses(400, 401, 403, 404), summary="Mark read (POST form)")
async def mark_read_post(notification_id: uuid.UUID, session: Session, user: CurrentUser,
                         context: Ctx) -> dict:
    return await mark_read(notification_id, session, user, context)


@admin_router.get("", response_model=Page[schemas.Notification], responses=error_responses(401, 403))
async def admin_list_notifications(session: Session, _admin: Admin, paging: Paging,
                                   user_id: uuid.UUID | None = None) -> dict:
    rows, total = await InboxService(session).page(user_id, paging.offset, paging.limit)
    return page_of([_out(n) for n in rows], total, paging)


@admin_router.get("/deliveries", response_model=Page[schemas.Delivery],
                  responses=error_responses(400, 401, 403),
                  summary="Channel deliveries (what each provider, including log://, was given)")
async def list_deliveries(session: Session, _admin: Admin, paging: Paging, context: Ctx,
                          status: DeliveryStatus | None = None, channel: Channel | None = None,
                          user_id: uuid.UUID | None = None) -> dict:
    rows, total = await DeliveryQueue(session, context.settings).page(
        paging.offset, paging.limit, status=status, channel=channel, user_id=user_id)
    return page_of([_delivery(d) for d in rows], total, paging)


@admin_router.get("/dead-letters", response_model=Page[schemas.Delivery],
                  responses=error_responses(401, 403),
                  summary="Deliveries that failed after every retry")
async def list_dead_letters(session: Session, _admin: Admin, paging: Paging,
                            context: Ctx) -> dict:
    rows, total = await DeliveryQueue(session, context.settings).page(
        paging.offset, paging.limit, status=DeliveryStatus.FAILED.value)
    return page_of([_delivery(d) for d in rows], total, paging)


@admin_router.post("/dead-letters/{delivery_id}/replay", response_model=Envelope[schemas.Delivery],
                   responses=error_responses(400, 401, 403, 404, 409))
async def replay_dead_letter(delivery_id: uuid.UUID, session: Session, _admin: Admin,
                             context: Ctx) -> dict:
    queue = DeliveryQueue(session, context.settings, context.dispatcher.wake)
    delivery = await queue.replay(delivery_id, context.now())
    return ok(_delivery(delivery))


@admin_router.get("/sink", response_model=Envelope[list[schemas.SinkMessage]],
                  responses=error_responses(400, 401, 403, 404),
                  summary="What the development sink (log://) was given, newest first")
async def read_sink(
    session: Session, _admin: Admin, context: Ctx,
    recipient: Annotated[str | None, Query(max_length=512,
                                           description="an E.164 phone or an email")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    """Messages kept by the development sink (SMS codes included), for development and tests.
    404 when no channel is wired to it, as in production."""
    if context.sink_store is None:
        raise NotFound("no development sink", "no channel delivers to log://")
    forms = recipient_forms(recipient) if recipient is not None else None
    rows = await SinkMessages(session).recent(forms, limit)
    return ok([schemas.SinkMessage.model_validate(row) for row in rows])
