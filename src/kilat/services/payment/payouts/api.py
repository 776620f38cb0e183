"""Payout routes: a runner's balance, destination accounts and cash-outs."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

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
from kilat.services.payment.payouts.domain import cash_out_eta_minutes
from kilat.services.payment.payouts.repository import PayoutRepository
from kilat.services.payment.payouts.service import (
    add_destination,
    available_balance,
    change_destination,
    own_cash_out,
    own_destination,
    remove_destination,
    request_cash_out,
)

payouts = APIRouter(prefix="/api/v1/payouts", tags=["payouts"])

Runner = RequireRole("runner")


@payouts.post("/cash-out", status_code=202, response_model=schemas.CashOutAcceptedEnvelope,
              responses=error_responses(400, 401, 403, 404, 409))
@idempotent
async def cash_out(body: schemas.CashOutCreate, session: Session, ctx: Ctx,
                   user: Runner) -> schemas.CashOutAcceptedEnvelope:
    row = await request_cash_out(session, ctx, user.user_id, body)
    eta = cash_out_eta_minutes(ctx.settings.cash_out_rail_delay_seconds)
    accepted = schemas.CashOutAccepted(cash_out_id=row.id, eta_minutes=eta, status=row.status,
                                       amount_myr_cents=row.amount_cents, fee_cents=row.fee_cents)
    return schemas.CashOutAcceptedEnvelope(data=accepted, cash_out_id=row.id, eta_minutes=eta)


@payouts.get("/cash-outs", response_model=Page[schemas.CashOut],
             responses=error_responses(401, 403))
async def my_cash_outs(session: Session, paging: Paging, user: Runner) -> dict:
    repo = PayoutRepository(session)
    items, total = await repo.paginate(repo.cash_outs_query(user.user_id), paging)
    return page_of([schemas.CashOut.model_validate(c) for c in items], total, paging)


@payouts.get("/cash-outs/{cash_out_id}", response_model=Envelope[schemas.CashOut],
             responses=error_responses(401, 403, 404))
async def get_cash_out(cash_out_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    row = await own_cash_out(PayoutRepository(session), user.user_id, cash_out_id,
                             is_admin=user.is_admin)
    return ok(schemas.CashOut.model_validate(row))


@payouts.get("/balance", response_model=Envelope[schemas.RunnerBalance],
             responses=error_responses(401, 403))
async def my_balance(session: Session, ctx: Ctx, user: Runner) -> dict:
    repo = PayoutRepository(session)
    return ok(schemas.RunnerBalance(
        runner_id=user.user_id, available_cents=await available_balance(repo, user.user_id),
        pending_cash_out_cents=await repo.open_cash_out_cents(user.user_id),
        cash_out_fee_cents=ctx.settings.cash_out_fee_cents, currency=ctx.settings.currency))


@payouts.post("/destinations", status_code=201, response_model=Envelope[schemas.Destination],
              responses=error_responses(400, 401, 403, 409))
@idempotent
async def create_destination(body: schemas.DestinationCreate, session: Session,
                             user: Runner) -> dict:
    destination = await add_destination(session, user.user_id, body)
    return ok(schemas.Destination.model_validate(destination))


@payouts.get("/destinations", response_model=Envelope[list[schemas.Destination]],
             responses=error_responses(401, 403))
async def list_destinations(session: Session, user: Runner) -> dict:
    rows = await session.scalars(PayoutRepository(session).destinations_query(user.user_id))
    return ok([schemas.Destination.model_validate(d) for d in rows])


@payouts.get("/destinations/{destination_id}", response_model=Envelope[schemas.Destination],
             responses=error_responses(401, 403, 404))
async def get_destination(destination_id: uuid.UUID, session: Session, user: Runner) -> dict:
    destination = await own_destination(PayoutRepository(session), user.user_id, destination_id)
    return ok(schemas.Destination.model_validate(destination))


@payouts.put("/destinations/{destination_id}", response_model=Envelope[schemas.Destination],
             responses=error_responses(400, 401, 403, 404, 409))
async def update_destination(destination_id: uuid.UUID, body: schemas.DestinationUpdate,
                             session: Session, user: Runner) -> dict:
    destination = await change_destination(session, user.user_id, destination_id, body)
    return ok(schemas.Destination.model_validate(destination))


@payouts.delete("/destinations/{destination_id}", response_model=Envelope[Message],
                responses=error_responses(401, 403, 404))
async def delete_destination(destination_id: uuid.UUID, session: Session, user: Runner) -> dict:
    await remove_destination(session, user.user_id, destination_id)
    return ok(Message(message="destination removed"))


routers = [payouts]
