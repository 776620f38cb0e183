"""Webhook routes: a customer's subscriptions, their deliveries and attempts, replay."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.db import after_commit
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, Message, Page, Paging, error_responses, ok, page_of
from kilat.services.parcels import schemas
from kilat.services.parcels.audit import Actor
from kilat.services.parcels.context import Ctx
from kilat.services.parcels.webhooks import WebhookService, attempts_of

router = APIRouter(prefix="/api/v1/parcels", tags=["parcels webhooks"])
Customer = RequireRole("customer", "admin")


def actor(request: Request, user: CurrentUser) -> Actor:
    return Actor.of(user, request)


Who = Annotated[Actor, Depends(actor)]


@router.post("/webhooks", status_code=201, response_model=Envelope[schemas.WebhookCreated],
             responses=error_responses(400, 401, 403, 422))
async def create_webhook(body: schemas.WebhookCreate, session: Session, user: Customer,
                         who: Who) -> dict:
    hook = await WebhookService(session).create(user, body, who)
    return ok(schemas.WebhookCreated.model_validate(hook))


@router.get("/webhooks", response_model=Envelope[list[schemas.Webhook]],
            responses=error_responses(400, 401, 403))
async def my_webhooks(session: Session, user: Customer) -> dict:
    rows = await WebhookService(session).repo.of_customer(user.user_id)
    return ok([schemas.Webhook.model_validate(r) for r in rows])


@router.delete("/webhooks/{webhook_id}", response_model=Envelope[Message],
               responses=error_responses(400, 401, 403, 404))
async def delete_webhook(webhook_id: uuid.UUID, session: Session, user: Customer, who: Who) -> dict:
    await WebhookService(session).delete(user, webhook_id, who)
    return ok({"message": "webhook deleted"})


@router.post("/webhooks/{webhook_id}/enable", response_model=Envelope[schemas.Webhook],
             responses=error_responses(400, 401, 403, 404))
async def enable_webhook(webhook_id: uuid.UUID, session: Session, user: Customer, who: Who) -> dict:
    """Turn a disabled subscription back on (its failure count starts again)."""
    return ok(schemas.Webhook.model_validate(await WebhookService(session).enable(user, webhook_id, who)))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[schemas.WebhookDelivery],
            responses=error_responses(400, 401, 403, 404))
async def webhook_deliveries(webhook_id: uuid.UUID, session: Session, user: Customer,
                             paging: Paging) -> dict:
    service = WebhookService(session)
    await service.mine(user, webhook_id)
    rows, total = await service.repo.paginate(service.repo.deliveries(webhook_id), paging)
    return page_of([schemas.WebhookDelivery.model_validate(r) for r in rows], total, paging)


@router.get("/webhooks/{webhook_id}/deliveries/{delivery_id}/attempts",
            response_model=Envelope[list[schemas.WebhookAttempt]],
            responses=error_responses(400, 401, 403, 404))
async def delivery_attempts(webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: Session,
                            user: Customer) -> dict:
    await WebhookService(session).delivery_of(user, webhook_id, delivery_id)
    return ok([schemas.WebhookAttempt.model_validate(a) for a in await attempts_of(session, delivery_id)])


@router.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/replay", status_code=201,
             response_model=Envelope[schemas.WebhookDelivery],
             responses=error_responses(400, 401, 403, 404))
async def replay_delivery(webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: Session,
                          user: Customer, context: Ctx, who: Who) -> dict:
    copy = await WebhookService(session).replay(user, webhook_id, delivery_id, who)
    after_commit(session, context.webhook_sender.wake)
    return ok(schemas.WebhookDelivery.model_validate(copy))
