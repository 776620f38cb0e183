"""Subscription routes: plans, subscribe, read and cancel one's own."""

from __future__ import annotations

from fastapi import APIRouter

from kilat.platform.auth import CurrentUser
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.schemas import (
    Envelope,
    error_responses,
    ok,
)
from kilat.services.payment.context import Ctx
from kilat.services.payment.subscriptions import schemas
from kilat.services.payment.subscriptions import service as subscriptions
from kilat.services.payment.subscriptions.domain import PLANS
from kilat.services.payment.subscriptions.service import Subscriptions

subscription_routes = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])


@subscription_routes.get("/plans", response_model=Envelope[list[schemas.Plan]])
async def plans() -> dict:
    return ok([schemas.Plan.model_validate(plan) for plan in PLANS.values()])


@subscription_routes.post("", status_code=201, response_model=Envelope[schemas.Subscription],
                          responses=error_responses(400, 401, 402, 409, 503))
@idempotent
async def subscribe(body: schemas.SubscriptionCreate, ctx: Ctx, user: CurrentUser) -> dict:
    subscription = await Subscriptions(ctx).subscribe(user, body)
    return ok(schemas.Subscription.model_validate(subscription))


@subscription_routes.get("/me", response_model=Envelope[schemas.Subscription],
                         responses=error_responses(401, 404))
async def my_subscription(session: Session, user: CurrentUser) -> dict:
    subscription = await subscriptions.active_subscription(session, user.user_id)
    return ok(schemas.Subscription.model_validate(subscription))


@subscription_routes.post("/me/cancel", response_model=Envelope[schemas.Subscription],
                          responses=error_responses(401, 404, 409))
@idempotent
async def cancel_subscription(session: Session, user: CurrentUser) -> dict:
    subscription = await subscriptions.cancel_subscription(session, user.user_id)
    return ok(schemas.Subscription.model_validate(subscription))


routers = [subscription_routes]
