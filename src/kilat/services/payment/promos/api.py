"""Promo routes: create, validate, the live list; the admin list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.models import utcnow
from kilat.platform.schemas import (
    Envelope,
    Page,
    Paging,
    error_responses,
    ok,
    page_of,
)
from kilat.services.payment.promos import schemas
from kilat.services.payment.promos import service as promos
from kilat.services.payment.promos.repository import PromoRepository

promo_routes = APIRouter(prefix="/api/v1/promos", tags=["promos"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Admin = RequireRole("admin")


@promo_routes.post("", status_code=201, response_model=Envelope[schemas.Promo],
                   responses=error_responses(400, 401, 403, 409))
@idempotent
async def create_promo(body: schemas.PromoCreate, session: Session, user: Admin) -> dict:
    promo = await promos.create_promo(session, user, body)
    return ok(schemas.Promo.model_validate(promo))


@promo_routes.post("/validate", response_model=Envelope[schemas.PromoValidation],
                   responses=error_responses(400, 401, 409))
@idempotent
async def validate_promo(body: schemas.PromoValidate, session: Session, user: CurrentUser) -> dict:
    return ok(await promos.validate_promo(session, user.user_id, body))


@promo_routes.get("/active", response_model=Envelope[list[schemas.Promo]],
                  responses=error_responses(401))
async def active_promos(session: Session, user: CurrentUser) -> dict:
    return ok([schemas.Promo.model_validate(p) for p in await promos.live_promos(session)])


@admin.get("/promos", response_model=Page[schemas.Promo], responses=error_responses(401, 403))
async def admin_promos(
    session: Session, paging: Paging, user: Admin,
    active: Annotated[bool | None, Query(description="true: usable now; false: not")] = None,
) -> dict:
    repo = PromoRepository(session)
    query = repo.promos_query(live=active, now=utcnow())
    items, total = await repo.paginate(query, paging)
    return page_of([schemas.Promo.model_validate(p) for p in items], total, paging)


routers = [promo_routes, admin]
