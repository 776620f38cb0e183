"""Payouts (§3.4): destination accounts, the ledger balance, cash-out over the bank rail; for
runners (pets) and for the verticals' payees (a rides driver, a parcels courier) alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import BadRequest, Conflict, Forbidden, not_found
from kilat.platform.models import utcnow
from kilat.services.payment.adapters.rail import (
    RailError,
    TransferStatus,
    UnknownTransfer,
)
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.ledger.domain import payee_account, runner_account
from kilat.services.payment.ledger.repository import LedgerRepository
from kilat.services.payment.models import CashOut, PayoutDestination
from kilat.services.payment.payouts import events
from kilat.services.payment.payouts.domain import (
    CASH_OUT_OVER_BALANCE,
    CashOutStatus,
    balance_account,
    can_cash_out,
    cash_out_fee,
    cash_out_deadline,
    cash_out_entry,
    cash_out_reversed_entry,
    cash_out_settled_entry,
    payee_currency,
)
from kilat.services.payment.payouts.repository import PayoutRepository
from kilat.services.payment.payouts.schemas import (
    CashOutCreate,
    DestinationCreate,
    DestinationUpdate,
)
from kilat.services.payment.settings import PaymentSettings

log = structlog.get_logger(__name__)


async def own_destination(repo: PayoutRepository, runner_id: uuid.UUID,
                          destination_id: uuid.UUID) -> PayoutDestination:
    destination = await repo.load(PayoutDestination, destination_id)
    if destination is None or destination.deleted_at is not None:
        raise not_found("Destination", destination_id)
    if destination.runner_id != runner_id:
        raise Forbidden("destination does not belong to runner")
    return destination


async def add_destination(session: AsyncSession, runner_id: uuid.UUID,
                          body: DestinationCreate) -> PayoutDestination:
    """A new account; the first one, or one marked so, becomes the default."""
    repo = PayoutRepository(session)
    has_any = await session.scalar(repo.destinations_query(runner_id).limit(1)) is not None
    if body.is_default:
        await repo.clear_default_destination(runner_id)
    destination = PayoutDestination(runner_id=runner_id, **body.model_dump(exclude={"is_default"}),
                                    is_default=body.is_default or not has_any)
    session.add(destination)
    await session.flush()
    return destination


async def change_destination(session: AsyncSession, runner_id: uuid.UUID,
                             destination_id: uuid.UUID,
                             body: DestinationUpdate) -> PayoutDestination:
    repo = PayoutRepository(session)
    destination = await own_destination(repo, runner_id, destination_id)
    if body.version is not None and body.version != destination.version:
        raise Conflict("destination was modified concurrently", "reload it and try again")
    if body.is_default:
        await repo.clear_default_destination(runner_id)
    for name, value in body.model_dump(exclude={"version"}, exclude_none=True).items():
        setattr(destination, name, value)
    await session.flush()
    return destination


async def remove_destination(session: AsyncSession, runner_id: uuid.UUID,
                             destination_id: uuid.UUID) -> None:
    destination = await own_destination(PayoutRepository(session), runner_id, destination_id)
    destination.deleted_at = utcnow()
    destination.is_default = False
    await session.flush()


@dataclass(frozen=True)
class Balance:
    """Where a payee's balance is kept: its ledger account and currency."""

    account: str
    currency: str


async def payee_balance(session: AsyncSession, settings: PaymentSettings, user: Principal,
                        currency: str | None) -> Balance:
    """The caller's balance account: a runner's pets balance, a driver's or courier's in the
    currency asked for, else the one they earned in, else their role's."""
    earned = []
    if currency is None and user.role != "runner":
        accounts = await LedgerRepository(session).accounts_under(
            payee_account(user.user_id, ""))
        earned = [account.rsplit(":", 1)[1] for account in accounts]
    chosen = payee_currency(user.role, currency, earned, settings.payee_currencies,
                            settings.currency)
    return Balance(balance_account(user.user_id, user.role, chosen, settings.currency), chosen)


async def available_balance(session: AsyncSession, balance: Balance) -> int:
    """Earnings less every cash-out still pending, processing or completed (with fees)."""
    return await LedgerRepository(session).balance(balance.account)


def books(settings: PaymentSettings, currency: str) -> str | None:
    """Whose books a cash-out's platform accounts are in (None: the platform currency's)."""
    return None if currency == settings.currency else currency


def fee_for(settings: PaymentSettings, currency: str) -> int:
    return cash_out_fee(currency, settings.currency, settings.cash_out_fee_cents,
                        settings.cash_out_fees)


async def request_cash_out(session: AsyncSession, ctx: PaymentContext, user: Principal,
                           body: CashOutCreate) -> CashOut:
    repo = PayoutRepository(session)
    await own_destination(repo, user.user_id, body.destination_id)
    balance = await payee_balance(session, ctx.settings, user, body.currency)
    await LedgerRepository(session).lock_account(balance.account)
    fee = fee_for(ctx.settings, balance.currency)
    available = await available_balance(session, balance)
    if not can_cash_out(body.amount_myr_cents, fee, available):
        raise BadRequest(CASH_OUT_OVER_BALANCE, f"available {available} {balance.currency} "
                         f"minor units; a cash-out costs {fee}")
    cash_out = CashOut(runner_id=user.user_id, balance_account=balance.account,
                       destination_id=body.destination_id, amount_cents=body.amount_myr_cents,
                       fee_cents=fee, currency=balance.currency, status=CashOutStatus.PENDING)
    session.add(cash_out)
    await session.flush()
    await ledger.post(repo.session, cash_out_entry(
        cash_out.id, balance.account, cash_out.amount_cents, fee,
        books(ctx.settings, cash_out.currency)), cash_out.currency)
    await events.cash_out_changed(session, cash_out)
    ctx.wake_after_commit(session)
    return cash_out


async def advance_cash_out(ctx: PaymentContext, cash_out_id: uuid.UUID,
                           now: datetime | None = None) -> None:
    """One step on the rail: submit a pending transfer, or settle or fail a processing one."""
    async with ctx.database.session(write=False) as session:
        cash_out = await PayoutRepository(session).load(CashOut, cash_out_id)
    if cash_out.status == CashOutStatus.PENDING:
        await _submit(ctx, cash_out)
    elif cash_out.status == CashOutStatus.PROCESSING:
        await _settle(ctx, cash_out, now or utcnow())


async def _submit(ctx: PaymentContext, cash_out: CashOut) -> None:
    async with ctx.database.session(write=False) as session:
        destination = await PayoutRepository(session).load(PayoutDestination,
                                                            cash_out.destination_id)
    try:
        transfer = await ctx.rail.submit(
            transfer_id=str(cash_out.id), amount_cents=cash_out.amount_cents,
            currency=cash_out.currency,
            destination={"bank_name": destination.bank_name,
                         "account_number": destination.account_number})
    except RailError as exc:
        log.warning("cash-out not submitted yet", cash_out_id=str(cash_out.id), error=str(exc))
        return
    async with ctx.database.session() as session:
        row = await PayoutRepository(session).load(CashOut, cash_out.id, for_update=True)
        if row.status == CashOutStatus.PENDING:
            row.status = CashOutStatus.PROCESSING
            row.rail_reference = transfer.reference
            row.submitted_at = utcnow()


async def _settle(ctx: PaymentContext, cash_out: CashOut, now: datetime) -> None:
    overdue = now >= cash_out.submitted_at + cash_out_deadline(
        ctx.settings.cash_out_rail_delay_seconds)
    try:
        transfer = await ctx.rail.status(cash_out.rail_reference)
    except UnknownTransfer:
        await _finish(ctx, cash_out.id, CashOutStatus.FAILED, "the rail does not know the transfer")
        return
    except RailError as exc:
        if overdue:
            await _finish(ctx, cash_out.id, CashOutStatus.FAILED, f"rail unavailable: {exc}")
        return
    if transfer.status == TransferStatus.COMPLETED:
        await _finish(ctx, cash_out.id, CashOutStatus.COMPLETED)
    elif overdue:
        await _finish(ctx, cash_out.id, CashOutStatus.FAILED, "transfer not settled in time")


async def _finish(ctx: PaymentContext, cash_out_id: uuid.UUID, status: CashOutStatus,
                  reason: str | None = None) -> None:
    async with ctx.database.session() as session:
        repo = PayoutRepository(session)
        cash_out = await repo.load(CashOut, cash_out_id, for_update=True)
        if cash_out.status != CashOutStatus.PROCESSING:
            return
        cash_out.status = status
        if status == CashOutStatus.COMPLETED:
            cash_out.completed_at = utcnow()
            entry = cash_out_settled_entry(cash_out.id, cash_out.amount_cents,
                                           books(ctx.settings, cash_out.currency))
        else:
            cash_out.failed_at = utcnow()
            cash_out.failure_reason = reason
            account = cash_out.balance_account or runner_account(cash_out.runner_id)
            entry = cash_out_reversed_entry(cash_out.id, account, cash_out.amount_cents,
                                            cash_out.fee_cents,
                                            books(ctx.settings, cash_out.currency))
        await ledger.post(repo.session, entry, cash_out.currency)
        await session.flush()
        await events.cash_out_changed(session, cash_out)


async def own_cash_out(repo: PayoutRepository, runner_id: uuid.UUID, cash_out_id: uuid.UUID,
                       *, is_admin: bool = False) -> CashOut:
    cash_out = await repo.load_or_404(CashOut, cash_out_id, "Cash-out")
    if cash_out.runner_id != runner_id and not is_admin:
        raise Forbidden("not your cash-out")
    return cash_out
