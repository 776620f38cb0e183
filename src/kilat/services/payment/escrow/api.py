"""Payment routes: hold a booking's price in escrow, read and refund it; the admin lists."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.schemas import (
    Envelope,
    Page,
    Paging,
    error_responses,
    ok,
    page_of,
)
from kilat.services.payment.bookings import ensure_booking
from kilat.services.payment.context import Ctx
from kilat.services.payment.escrow import schemas
from kilat.services.payment.escrow.domain import EscrowStatus
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.escrow.service import Escrow, read_payment
from kilat.services.payment.escrow.settlement import Settlement
from kilat.services.payment.ledger.repository import LedgerRepository
from kilat.services.payment.models import Payment

payments = APIRouter(prefix="/api/v1/payments", tags=["payments"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Owner = RequireRole("owner")
Admin = RequireRole("admin")


def _payment(payment: Payment) -> schemas.Payment:
    return schemas.Payment.model_validate(payment)


@payments.post("/initiate", status_code=201, response_model=Envelope[schemas.Payment],
               responses=error_responses(400, 401, 402, 403, 404, 409, 422, 503))
@idempotent
async def initiate_payment(body: schemas.PaymentInitiate, request: Request, ctx: Ctx,
                           user: Owner) -> dict:
    """Hold the booking's price, less promo, subscription and credit, in escrow."""
    await ensure_booking(ctx, body.booking_id, request.headers.get("authorization"))
    payment = await Escrow(ctx).initiate(user, body)
    return ok(_payment(payment))


@payments.get("", response_model=Page[schemas.Payment], responses=error_responses(401))
async def list_my_payments(session: Session, paging: Paging, user: CurrentUser) -> dict:
    repo = EscrowRepository(session)
    filters = {} if user.is_admin else {"party": user.user_id}
    items, total = await repo.paginate(repo.payments_query(filters), paging)
    return page_of([_payment(p) for p in items], total, paging)


@payments.get("/booking/{booking_id}", response_model=Envelope[schemas.Payment],
              responses=error_responses(401, 403, 404))
async def payment_for_booking(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    payment = await EscrowRepository(session).payment_for_booking(booking_id)
    return ok(_payment(await read_payment(session, user, payment, f"booking {booking_id}")))


@payments.get("/{payment_id}", response_model=Envelope[schemas.Payment],
              responses=error_responses(401, 403, 404))
async def get_payment(payment_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    payment = await EscrowRepository(session).load(Payment, payment_id)
    return ok(_payment(await read_payment(session, user, payment, payment_id)))


@payments.post("/{payment_id}/refund", response_model=Envelope[schemas.Payment],
               responses=error_responses(400, 401, 403, 404, 409, 422))
@idempotent
async def refund_payment(payment_id: uuid.UUID, body: schemas.RefundRequest, ctx: Ctx,
                         user: Admin) -> dict:
    return ok(_payment(await Settlement(ctx).refund(payment_id, body.reason)))


@admin.get("/payments", response_model=Page[schemas.Payment], responses=error_responses(401, 403))
async def admin_payments(
    session: Session, paging: Paging, user: Admin,
    status: Annotated[EscrowStatus | None, Query()] = None,
    owner_id: uuid.UUID | None = None, runner_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    created_from: datetime | None = None, created_to: datetime | None = None,
) -> dict:
    repo = EscrowRepository(session)
    filters = {"escrow_status": status, "owner_id": owner_id, "runner_id": runner_id,
               "booking_id": booking_id, "created_from": created_from, "created_to": created_to}
    items, total = await repo.paginate(repo.payments_query(filters), paging)
    return page_of([_payment(p) for p in items], total, paging)


@admin.get("/stats/payments", response_model=Envelope[schemas.PaymentStats],
           responses=error_responses(401, 403))
async def payment_stats(session: Session, user: Admin) -> dict:
    repo = EscrowRepository(session)
    stats = await repo.payment_stats()
    return ok(schemas.PaymentStats(
        total_revenue_cents=await LedgerRepository(session).platform_revenue(),
        total_payments=sum(count for count, _ in stats.values()),
        by_status={status: count for status, (count, _) in stats.items()},
        released_volume_cents=stats.get(EscrowStatus.RELEASED, (0, 0))[1],
        held_cents=stats.get(EscrowStatus.HELD, (0, 0))[1]))


routers = [payments, admin]
