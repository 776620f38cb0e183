"""Routes of the payment service: parse, call the service, return the envelope."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from kilat.platform.auth import CurrentUser, RequireRole
from kilat.platform.http import Session
from kilat.platform.idempotency import idempotent
from kilat.platform.models import utcnow
from kilat.platform.schemas import (
    Envelope,
    Message,
    Page,
    Paging,
    error_responses,
    ok,
    page_of,
)
from kilat.services.payment import schemas
from kilat.services.payment.bookings import ensure_booking
from kilat.services.payment.context import Ctx
from kilat.services.payment.domain import PLANS, EscrowStatus, cash_out_eta_minutes
from kilat.services.payment.escrow.service import Escrow, read_payment
from kilat.services.payment.escrow.settlement import Settlement
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.models import Payment
from kilat.services.payment.payouts.service import (
    add_destination,
    available_balance,
    change_destination,
    own_cash_out,
    own_destination,
    remove_destination,
    request_cash_out,
)
from kilat.services.payment.promos import service as promos
from kilat.services.payment.referrals import service as referrals
from kilat.services.payment.repository import PaymentRepository
from kilat.services.payment.subscriptions import service as subscriptions
from kilat.services.payment.subscriptions.service import Subscriptions

payments = APIRouter(prefix="/api/v1/payments", tags=["payments"])
promo_routes = APIRouter(prefix="/api/v1/promos", tags=["promos"])
subscription_routes = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])
payouts = APIRouter(prefix="/api/v1/payouts", tags=["payouts"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin"])

Owner = RequireRole("owner")
Runner = RequireRole("runner")
Admin = RequireRole("admin")


def _payment(payment: Payment) -> schemas.Payment:
    return schemas.Payment.model_validate(payment)


# --- payments ------------------------------------------------------------------------------------


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
    repo = PaymentRepository(session)
    filters = {} if user.is_admin else {"party": user.user_id}
    items, total = await repo.paginate(repo.payments_query(filters), paging)
    return page_of([_payment(p) for p in items], total, paging)


@payments.get("/credits/me", response_model=Envelope[schemas.CreditBalance],
              responses=error_responses(401))
async def my_credit(session: Session, ctx: Ctx, user: CurrentUser) -> dict:
    balance = await referrals.credit_balance(session, user.user_id)
    return ok(schemas.CreditBalance(user_id=user.user_id, balance_cents=balance,
                                    currency=ctx.settings.currency))


@payments.get("/booking/{booking_id}", response_model=Envelope[schemas.Payment],
              responses=error_responses(401, 403, 404))
async def payment_for_booking(booking_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    payment = await PaymentRepository(session).payment_for_booking(booking_id)
    return ok(_payment(await read_payment(session, user, payment, f"booking {booking_id}")))


@payments.get("/{payment_id}", response_model=Envelope[schemas.Payment],
              responses=error_responses(401, 403, 404))
async def get_payment(payment_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    payment = await PaymentRepository(session).load(Payment, payment_id)
    return ok(_payment(await read_payment(session, user, payment, payment_id)))


@payments.post("/{payment_id}/refund", response_model=Envelope[schemas.Payment],
               responses=error_responses(400, 401, 403, 404, 409, 422))
@idempotent
async def refund_payment(payment_id: uuid.UUID, body: schemas.RefundRequest, ctx: Ctx,
                         user: Admin) -> dict:
    return ok(_payment(await Settlement(ctx).refund(payment_id, body.reason)))


# --- promos --------------------------------------------------------------------------------------


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


# --- subscriptions -------------------------------------------------------------------------------


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


# --- payouts -------------------------------------------------------------------------------------


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
    repo = PaymentRepository(session)
    items, total = await repo.paginate(repo.cash_outs_query(user.user_id), paging)
    return page_of([schemas.CashOut.model_validate(c) for c in items], total, paging)


@payouts.get("/cash-outs/{cash_out_id}", response_model=Envelope[schemas.CashOut],
             responses=error_responses(401, 403, 404))
async def get_cash_out(cash_out_id: uuid.UUID, session: Session, user: CurrentUser) -> dict:
    row = await own_cash_out(PaymentRepository(session), user.user_id, cash_out_id,
                             is_admin=user.is_admin)
    return ok(schemas.CashOut.model_validate(row))


@payouts.get("/balance", response_model=Envelope[schemas.RunnerBalance],
             responses=error_responses(401, 403))
async def my_balance(session: Session, ctx: Ctx, user: Runner) -> dict:
    repo = PaymentRepository(session)
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
    rows = await session.scalars(PaymentRepository(session).destinations_query(user.user_id))
    return ok([schemas.Destination.model_validate(d) for d in rows])


@payouts.get("/destinations/{destination_id}", response_model=Envelope[schemas.Destination],
             responses=error_responses(401, 403, 404))
async def get_destination(destination_id: uuid.UUID, session: Session, user: Runner) -> dict:
    destination = await own_destination(PaymentRepository(session), user.user_id, destination_id)
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


# --- admin ---------------------------------------------------------------------------------------


@admin.get("/payments", response_model=Page[schemas.Payment], responses=error_responses(401, 403))
async def admin_payments(
    session: Session, paging: Paging, user: Admin,
    status: Annotated[EscrowStatus | None, Query()] = None,
    owner_id: uuid.UUID | None = None, runner_id: uuid.UUID | None = None,
    booking_id: uuid.UUID | None = None,
    created_from: datetime | None = None, created_to: datetime | None = None,
) -> dict:
    repo = PaymentRepository(session)
    filters = {"escrow_status": status, "owner_id": owner_id, "runner_id": runner_id,
               "booking_id": booking_id, "created_from": created_from, "created_to": created_to}
    items, total = await repo.paginate(repo.payments_query(filters), paging)
    return page_of([_payment(p) for p in items], total, paging)


@admin.get("/stats/payments", response_model=Envelope[schemas.PaymentStats],
           responses=error_responses(401, 403))
async def payment_stats(session: Session, user: Admin) -> dict:
    repo = PaymentRepository(session)
    stats = await repo.payment_stats()
    return ok(schemas.PaymentStats(
        total_revenue_cents=await repo.platform_revenue(),
        total_payments=sum(count for count, _ in stats.values()),
        by_status={status: count for status, (count, _) in stats.items()},
        released_volume_cents=stats.get(EscrowStatus.RELEASED, (0, 0))[1],
        held_cents=stats.get(EscrowStatus.HELD, (0, 0))[1]))


@admin.get("/promos", response_model=Page[schemas.Promo], responses=error_responses(401, 403))
async def admin_promos(
    session: Session, paging: Paging, user: Admin,
    active: Annotated[bool | None, Query(description="true: usable now; false: not")] = None,
) -> dict:
    repo = PaymentRepository(session)
    query = repo.promos_query(live=active, now=utcnow())
    items, total = await repo.paginate(query, paging)
    return page_of([schemas.Promo.model_validate(p) for p in items], total, paging)


@admin.get("/payments/ledger", response_model=Envelope[schemas.LedgerReport],
           responses=error_responses(401, 403))
async def ledger_check(session: Session, user: Admin) -> dict:
    """The books: balanced when every entry and all accounts sum to zero and escrow matches."""
    report = await ledger.check(PaymentRepository(session))
    return ok(schemas.LedgerReport.model_validate(report))


routers = [payments, promo_routes, subscription_routes, payouts, admin]
