"""Settling escrow: release to the runner or refund to the owner, carried out by the worker.

Handlers only record that a release or refund is due (in the consumer's transaction); the worker
then calls the processor outside any transaction and books the outcome. Processor calls carry
idempotency keys, so a retry after a lost reply never captures or cancels twice.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import Conflict, Unprocessable
from kilat.platform.models import utcnow
from kilat.services.payment.adapters.provider import (
    AuthorizationExpired,
    IntentStateError,
    ProviderError,
)
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow import events
from kilat.services.payment.escrow.domain import (
    EscrowAction,
    EscrowStatus,
    release_entry,
    retry_delay,
)
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.escrow.service import move, quote_of, return_funds
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.models import BookingView, Payment

log = structlog.get_logger(__name__)

ACTION_LEASE_SECONDS = 60
# how long an admin refund waits for a worker that claimed the action first
ACTION_WAIT_SECONDS = 10.0


class Settlement:
    def __init__(self, ctx: PaymentContext) -> None:
        self.ctx = ctx
        self.database = ctx.database
        self.settings = ctx.settings
        self.provider = ctx.provider

    async def request(self, session: AsyncSession, booking_id: uuid.UUID, action: EscrowAction,
                      *, runner_id: uuid.UUID | None = None, reason: str | None = None) -> bool:
        """Ask for a release or refund of the booking's held payment; the worker carries it out.

        The row lock orders this against a hold being recorded: the hold either commits first
        (and is seen here as held) or sees the booking's new status and aborts.
        """
        payment = await EscrowRepository(session).payment_for_booking(booking_id, for_update=True)
        if payment is None or payment.escrow_status != EscrowStatus.HELD:
            return False
        if payment.pending_action is not None:
            return False
        if action == EscrowAction.RELEASE and (runner_id or payment.runner_id) is None:
            log.error("release without a runner ignored", payment_id=str(payment.id))
            return False
        payment.pending_action = action
        payment.action_runner_id = runner_id or payment.runner_id
        payment.action_reason = reason
        payment.action_attempts = 0
        payment.action_due_at = utcnow()
        self.ctx.wake_after_commit(session)
        return True

    @staticmethod
    async def follow_runner(session: AsyncSession, booking: BookingView) -> None:
        """Keep a held payment's runner in step with the booking (accepted, declined)."""
        payment = await EscrowRepository(session).payment_for_booking(booking.booking_id)
        if payment is not None and payment.escrow_status == EscrowStatus.HELD:
            payment.runner_id = booking.runner_id

    async def refund(self, payment_id: uuid.UUID, reason: str) -> Payment:
        """Admin refund of a held payment (422 when it is not held)."""
        async with self.database.session() as session:
            repo = EscrowRepository(session)
            payment = await repo.load_or_404(Payment, payment_id, "Payment", for_update=True)
            if payment.escrow_status != EscrowStatus.HELD:
                raise Unprocessable("payment is not held",
                                    f"payment is {payment.escrow_status}")
            if payment.pending_action == EscrowAction.RELEASE:
                raise Conflict("payment is being released to the runner")
            await self.request(session, payment.booking_id, EscrowAction.REFUND,
                               reason=f"admin refund: {reason}")
        if await self.run_action(payment_id):
            async with self.database.session(write=False) as session:
                return await EscrowRepository(session).load(Payment, payment_id)
        return await self._after_worker(payment_id)

    async def _after_worker(self, payment_id: uuid.UUID) -> Payment:
        """The payment once the worker that claimed its action first (woken by the same commit)
        has carried it out; as it stands if that takes longer than ``ACTION_WAIT_SECONDS``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACTION_WAIT_SECONDS
        while True:
            async with self.database.session(write=False) as session:
                payment = await EscrowRepository(session).load(Payment, payment_id)
            if payment.pending_action is None or loop.time() >= deadline:
                return payment
            await asyncio.sleep(0.02)

    async def run_action(self, payment_id: uuid.UUID) -> bool:
        """One try of a due release or refund: processor first, then the books. False when the
        action was not due here (done already, or claimed by another worker)."""
        claimed = await self._claim_action(payment_id)
        if claimed is None:
            return False
        action, intent_id = claimed
        try:
            if intent_id is not None and action == EscrowAction.RELEASE:
                await self.provider.capture(intent_id, idempotency_key=f"capture:{payment_id}")
            elif intent_id is not None:
                await self.provider.cancel(intent_id, idempotency_key=f"cancel:{payment_id}")
        except AuthorizationExpired:
            await self.lapse(payment_id, "authorization expired before capture")
            return True
        except (ProviderError, IntentStateError) as exc:
            await self._retry_later(payment_id, exc)
            return True
        await self._settle(payment_id, action)
        return True

    async def _claim_action(self, payment_id: uuid.UUID) -> tuple[str, str | None] | None:
        now = utcnow()
        async with self.database.session() as session:
            payment = await EscrowRepository(session).load(Payment, payment_id, for_update=True)
            if payment is None or payment.pending_action is None or payment.action_due_at > now:
                return None
            payment.action_attempts += 1
            payment.action_due_at = now + timedelta(seconds=ACTION_LEASE_SECONDS)
            return payment.pending_action, payment.provider_payment_id

    async def _retry_later(self, payment_id: uuid.UUID, exc: Exception) -> None:
        async with self.database.session() as session:
            payment = await EscrowRepository(session).load(Payment, payment_id, for_update=True)
            payment.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if isinstance(exc, IntentStateError):
                payment.action_due_at = None
                log.error("escrow action parked", payment_id=str(payment_id), error=str(exc))
                return
            payment.action_due_at = utcnow() + retry_delay(
                payment.action_attempts, self.settings.action_retry_base_seconds)

    async def _settle(self, payment_id: uuid.UUID, action: str) -> None:
        async with self.database.session() as session:
            repo = EscrowRepository(session)
            payment = await repo.load(Payment, payment_id, for_update=True)
            if payment.escrow_status != EscrowStatus.HELD or payment.pending_action != action:
                return
            if action == EscrowAction.RELEASE:
                await self._release(repo, payment)
            else:
                await self._refund(repo, payment)
            payment.pending_action = payment.action_due_at = payment.last_error = None
            await session.flush()

    async def _release(self, repo: EscrowRepository, payment: Payment) -> None:
        payment.runner_id = payment.action_runner_id or payment.runner_id
        move(payment, EscrowStatus.RELEASED)
        payment.escrow_released_at = utcnow()
        await ledger.post(repo.session, release_entry(payment.id, payment.runner_id, quote_of(payment)),
                          payment.currency)
        await repo.session.flush()
        await events.escrow_released(repo.session, payment)

    async def _refund(self, repo: EscrowRepository, payment: Payment) -> None:
        await return_funds(repo, payment, "refund", charged=payment.charged_cents)
        move(payment, EscrowStatus.REFUNDED)
        payment.refunded_at = utcnow()
        payment.refund_reason = payment.action_reason
        await repo.session.flush()
        await events.escrow_refunded(repo.session, payment)

    async def lapse(self, payment_id: uuid.UUID, reason: str) -> None:
        """The hold expired at the processor: the escrow is void and the payment failed."""
        async with self.database.session() as session:
            repo = EscrowRepository(session)
            payment = await repo.load(Payment, payment_id, for_update=True)
            if payment.escrow_status != EscrowStatus.HELD:
                return
            await return_funds(repo, payment, "lapse", charged=payment.charged_cents)
            move(payment, EscrowStatus.FAILED)
            payment.failed_at = utcnow()
            payment.failure_reason = reason
            payment.pending_action = payment.action_due_at = None
            await session.flush()
            await events.payment_failed(session, payment)
