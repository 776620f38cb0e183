"""Payout routes: a payee's balance, destination accounts and cash-outs. A payee is a runner
(pets), a driver (rides) or a courier (parcels)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.schemas import (
    Envelope,
    Message,
    Page,
    Paging,
    error_responses,
    ok,
    page_of,
)
from kilat.services.payment.context import Ctx
from kilat.services.payment.payouts import schemas
from kilat.services.payment.payouts.domain import PAYEE_ROLES, cash_out_eta_minutes
from kilat.services.payment.payouts.repository import PayoutRepository
from kilat.services.payment.payouts.service import (
    add_destination,
    available_balance,
    change_destination,
    fee_for,
    own_cash_out,
    own_destination,
    payee_balance,
    remove_destination,
    request_cash_out,
)

payouts = APIRouter(prefix="/api/v1/payouts", tags=["payouts"])

Payee = RequireRole(*PAYEE_ROLES)
BalanceCurrency = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$",
                                              description="the balance's currency (ISO 4217)")]


@payouts.post("/cash-out", status_code=202, response_model=schemas.CashOutAcceptedEnvelope,
              responses=error_responses(400, 401, 403, 404, 409))
@idempotent
async def cash_out(body: schemas.CashOutCreate, session: Session, ctx: Ctx,
                   user: Payee) -> schemas.CashOutAcceptedEnvelope:
    row = await request_cash_out(session, ctx, user, body)
    eta = cash_out_eta_minutes(ctx.settings.cash_out_rail_delay_seconds)
    accepted = schemas.CashOutAccepted(cash_out_id=row.id, eta_minutes=eta, status=row.status,
                                       amount_myr_cents=row.amount_cents, fee_cents=row.fee_cents,
                                       currency=row.currency)
    return schemas.CashOutAcceptedEnvelope(data=accepted, cash_out_id=row.id, eta_minutes=eta)


@payouts.get("/cash-outs", response_model=Page[schemas.CashOut],
             responses=error_responses(401, 403))
async def my_cash_outs(session: Session, paging: Paging, user: Payee) -> dict:
    repo = PayoutRepository(session)
    items, total = await repo.paginate(repo.cash_outs_query(user.user_id), paging)
    return page_of([schemas.CashOut.model_validate(c) for c in items], total, paging)


@payouts.get("/cash-outs/{cash_out_id}", response_model=Envelope[schemas.CashOut],
             responses=error_responses(401, 403, 404))
async def get_cash_out(cash_out_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    row = await own_cash_out(PayoutRepository(session), user.user_id, cash_out_id,
                             is_admin=user.is_admin)
    return ok(schemas.CashOut.model_validate(row))


@payouts.get("/balance", response_model=Envelope[schemas.PayeeBalance],
             responses=error_responses(400, 401, 403))
async def my_balance(session: Session, ctx: Ctx, user: Payee,
                     currency: BalanceCurrency = None) -> dict:
    """The caller's balance in minor units of its currency (a driver's is IDR)."""
    balance = await payee_balance(session, ctx.settings, user, currency)
    pending = await PayoutRepository(session).open_cash_out_cents(user.user_id, balance.currency)
    return ok(schemas.PayeeBalance(
        runner_id=user.user_id, user_id=user.user_id, role=user.role,
        available_cents=await available_balance(session, balance),
        pending_cash_out_cents=pending,
        cash_out_fee_cents=fee_for(ctx.settings, balance.currency), currency=balance.currency))


@payouts.post("/destinations", status_code=201, response_model=Envelope[schemas.Destination],
              responses=error_responses(400, 401, 403, 409))
@idempotent
async def create_destination(body: schemas.DestinationCreate, session: Session,
                             user: Payee) -> dict:
    destination = await add_destination(session, user.user_id, body)
    return ok(schemas.Destination.model_validate(destination))


@payouts.get("/destinations", response_model=Envelope[list[schemas.Destination]],
             responses=error_responses(401, 403))
async def list_destinations(session: Session, user: Payee) -> dict:
    rows = await session.scalars(PayoutRepository(session).destinations_query(user.user_id))
    return ok([schemas.Destination.model_validate(d) for d in rows])


@payouts.get("/destinations/{destination_id}", response_model=Envelope[schemas.Destination],
             responses=error_responses(401, 403, 404))
async def get_destination(destination_id: uuid.UUID, session: Session, user: Payee) -> dict:
    destination = await own_destination(PayoutRepository(session), user.user_id, destination_id)
    return ok(schemas.Destination.model_validate(destination))


@payouts.put("/destinations/{destination_id}", response_model=Envelope[schemas.Destination],
             responses=error_responses(400, 401, 403, 404, 409))
async def update_destination(destination_id: uuid.UUID, body: schemas.DestinationUpdate,
                             session: Session, user: Payee) -> dict:
    destination = await change_destination(session, user.user_id, destination_id, body)
    return ok(schemas.Destination.model_validate(destination))


@payouts.delete("/destinations/{destination_id}", response_model=Envelope[Message],
                responses=error_responses(401, 403, 404))
async def delete_destination(destination_id: uuid.UUID, session: Session, user: Payee) -> dict:
    await remove_destination(session, user.user_id, destination_id)
    return ok(Message(message="destination removed"))


routers = [payouts]
