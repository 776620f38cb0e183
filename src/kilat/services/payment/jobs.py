"""Background work of the payment service: escrow actions, the verticals' charges and refunds,
cash-outs, and the periodic sweep."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import datetime, timedelta

import structlog

from kilat.platform.idempotency import purge_expired_keys
from kilat.platform.models import utcnow
from kilat.platform.runtime import ServiceRuntime
from kilat.platform.tasks import stop_if_cancelled
from kilat.services.payment.charges.repository import ChargeRepository
from kilat.services.payment.charges.service import ChargeDesk
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.escrow.service import Escrow
from kilat.services.payment.escrow.settlement import Settlement
from kilat.services.payment.payouts.domain import CashOutStatus
from kilat.services.payment.payouts.repository import PayoutRepository
from kilat.services.payment.payouts.service import advance_cash_out
from kilat.services.payment.subscriptions.service import expire_due, renew_due

log = structlog.get_logger(__name__)


async def run_due_work(ctx: PaymentContext, now: datetime | None = None) -> None:
    """Carry out due releases and refunds, due charges and charge refunds, then move every open
    cash-out one step."""
    now = now or utcnow()
    async with ctx.database.session(write=False) as session:
        repo = EscrowRepository(session)
        actions = await repo.due_actions(now)
        charges = ChargeRepository(session)
        due_charges, due_refunds = await charges.due_charges(now), await charges.due_refunds(now)
        cash_outs = await PayoutRepository(session).cash_outs_in(CashOutStatus.PENDING, CashOutStatus.PROCESSING)
    settlement = Settlement(ctx)
    for payment_id in actions:
        await settlement.run_action(payment_id)
    desk = ChargeDesk(ctx)
    for charge_id in due_charges:
        await desk.run_charge(charge_id)
    for refund_id in due_refunds:
        await desk.run_refund(refund_id)
    for cash_out_id in cash_outs:
        await advance_cash_out(ctx, cash_out_id, now)


async def sweep(ctx: PaymentContext, now: datetime | None = None) -> None:
    """Lapse expired holds, recover interrupted holds, renew or expire subscriptions, purge old
    keys."""
    now = now or utcnow()
    stale_before = now - timedelta(seconds=ctx.settings.stale_pending_seconds)
    async with ctx.database.session(write=False) as session:
        repo = EscrowRepository(session)
        lapsed = await repo.lapsed_holds(now)
        stale = await repo.stale_pending(stale_before)
    for payment_id in lapsed:
        await Settlement(ctx).lapse(payment_id, "authorization expired before delivery")
    for payment_id in stale:
        await Escrow(ctx).recover(payment_id)
    # renew up to two sweeps ahead of the end, so a renewing plan's discount never lapses
    await renew_due(ctx, now, lead=timedelta(seconds=2 * ctx.settings.sweep_interval_seconds))
    async with ctx.database.session() as session:
        await expire_due(session, now)
        await purge_expired_keys(session, now)


async def _forever(name: str, step, wait) -> None:
    while True:
        try:
            await step()
        except Exception as exc:  # the next round retries; one bad row must not stop the loop
            stop_if_cancelled(exc)
            log.exception("payment job failed", job=name, error=str(exc))
        await wait()


def start_jobs(runtime: ServiceRuntime) -> None:
    ctx: PaymentContext = runtime.context

    async def woken_or_polled() -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(ctx.wake.wait(), timeout=ctx.settings.worker_poll_seconds)
        ctx.wake.clear()

    async def next_sweep() -> None:
        await asyncio.sleep(ctx.settings.sweep_interval_seconds)

    runtime.spawn(_forever("worker", lambda: run_due_work(ctx), woken_or_polled), "payment-worker")
    runtime.spawn(_forever("sweep", lambda: sweep(ctx), next_sweep), "payment-sweep")
