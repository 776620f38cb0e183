"""Charge routes: a payer's charges, one charge (payer, payee or admin), the admin's list."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.schemas import Envelope, Page, Paging, error_responses, ok, page_of
from kilat.services.payment.charges import schemas
from kilat.services.payment.charges.domain import ChargeStatus
from kilat.services.payment.charges.repository import ChargeRepository
from kilat.services.payment.charges.service import read_charge

payments = APIRouter(prefix="/api/v1/payments", tags=["payments"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Admin = RequireRole("admin")
Source = Annotated[str | None, Query(max_length=20, description="rides, rail or parcels")]
Status = Annotated[ChargeStatus | None, Query()]


def _charges(items) -> list[schemas.Charge]:
    return [schemas.Charge.model_validate(charge) for charge in items]


@payments.get("/charges", response_model=Page[schemas.Charge], responses=error_responses(401))
async def my_charges(session: Session, paging: Paging, user: CurrentUser,
                     source: Source = None, status: Status = None) -> dict:
    """The caller's charges as payer, newest first."""
    repo = ChargeRepository(session)
    query = repo.charges_query({"payer_id": user.user_id, "source": source, "status": status})
    items, total = await repo.paginate(query, paging)
    return page_of(_charges(items), total, paging)


@payments.get("/charges/{charge_id}", response_model=Envelope[schemas.ChargeDetail],
              responses=error_responses(401, 404))
async def get_charge(charge_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    """One charge with its refunds, for its payer, its payee or an admin."""
    repo = ChargeRepository(session)
    charge = await read_charge(repo, user, charge_id)
    refunds = [schemas.ChargeRefund.model_validate(r) for r in await repo.refunds_of(charge.id)]
    detail = schemas.Charge.model_validate(charge).model_dump()
    return ok(schemas.ChargeDetail(**detail, refunds=refunds))


@admin.get("/payments/charges", response_model=Page[schemas.Charge],
           responses=error_responses(401, 403))
async def admin_charges(session: Session, paging: Paging, user: Admin, source: Source = None,
                        status: Status = None, payer_id: uuid.UUID | None = None,
                        payee_id: uuid.UUID | None = None,
                        reference_id: uuid.UUID | None = None) -> dict:
    repo = ChargeRepository(session)
    filters = {"source": source, "status": status, "payer_id": payer_id, "payee_id": payee_id,
               "reference_id": reference_id}
    items, total = await repo.paginate(repo.charges_query(filters), paging)
    return page_of(_charges(items), total, paging)


routers = [payments, admin]
