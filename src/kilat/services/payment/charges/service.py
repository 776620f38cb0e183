"""Charges for the verticals: recorded by the request's handler, carried out by the worker.

A handler only records the charge (or refund) in the consumer's transaction; the worker then calls
the processor outside any transaction and books the outcome in a short one, as escrow's
settlement does. Every processor call carries a key made from the charge's or refund's id, so a
retry after a lost reply never takes or gives back money twice.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.charges import ChargeRequest, RefundRequest
from kilat.platform.auth import Principal
from kilat.platform.errors import not_found
from kilat.platform.models import utcnow
from kilat.services.payment.adapters.provider import (
    CardDeclined,
    IntentStateError,
    PaymentIntent,
    ProviderError,
)
from kilat.services.payment.charges import events
from kilat.services.payment.charges.domain import (
    MAX_AMOUNT,
    MAX_PAYMENT_METHOD,
    ChargeStatus,
    RefundStatus,
    Split,
    capture_entry,
    charge_refusal,
    refund_entry,
    refund_refusal,
)
from kilat.services.payment.charges.repository import ChargeRepository
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow.domain import retry_delay
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.models import Charge, ChargeRefund

log = structlog.get_logger(__name__)

LEASE_SECONDS = 60
UNKNOWN = object()  # the processor could not say whether a call under a key succeeded


def _text(value: str, limit: int | None = None) -> str:
    """Text as a column can hold it, so even a refused request is kept (PostgreSQL refuses NUL)."""
    return value.replace("\x00", "")[:limit]


def _bounded(amount: int) -> int:
    """An amount a BIGINT holds; a larger one is refused, but its row must still be stored."""
    return min(amount, MAX_AMOUNT)


def split_of(charge: Charge) -> Split:
    return Split(charge.amount, charge.payee_amount, charge.fee_amount)


def charge_key(charge_id: uuid.UUID) -> str:
    return f"charge:{charge_id}"


def refund_key(refund_id: uuid.UUID) -> str:
    return f"charge_refund:{refund_id}"


async def request_charge(session: AsyncSession, ctx: PaymentContext, request: ChargeRequest,
                         source: str) -> None:
    """Record a vertical's charge once (a repeat of its id is the same charge); the worker
    captures it. A request that breaks the rules fails at once with ``payment.charge_failed``."""
    if await ChargeRepository(session).get(request.charge_id) is not None:
        return
    refusal = charge_refusal(request)
    charge = _charge_from(request, source)
    session.add(charge)
    if refusal is None:
        await session.flush()
        ctx.wake_after_commit(session)
        return
    _failed(charge, refusal)
    await session.flush()
    await events.charge_failed(session, charge)


def _charge_from(request: ChargeRequest, source: str) -> Charge:
    method = request.payment_method
    return Charge(
        id=request.charge_id, source=source, reference_id=request.reference_id,
        reference=_text(request.reference, 100), payer_id=request.payer_id,
        payee_id=request.payee_id, amount=_bounded(request.amount),
        payee_amount=_bounded(request.payee_amount), fee_amount=_bounded(request.fee_amount),
        currency=_text(request.currency, 3),
        payment_method=_text(method, MAX_PAYMENT_METHOD) if method is not None else None,
        description=_text(request.description), status=ChargeStatus.REQUESTED,
        refunded_total=0, refund_reserved=0, attempts=0, due_at=utcnow(),
        requested_at=request.requested_at)


async def request_refund(session: AsyncSession, ctx: PaymentContext, request: RefundRequest,
                         source: str) -> None:
    """Record a refund once, its amount reserved against the charge; the worker gives it back
    once the charge is captured. One that cannot be made fails at once (``refund_failed``)."""
    repo = ChargeRepository(session)
    if await repo.refund(request.refund_id) is not None:
        return
    charge = await repo.get(request.charge_id, for_update=True)
    refund = ChargeRefund(
        id=request.refund_id, charge_id=request.charge_id, source=source,
        reference_id=request.reference_id, amount=_bounded(request.amount),
        currency=_text(request.currency, 3), reason=_text(request.reason),
        status=RefundStatus.REQUESTED, attempts=0, due_at=utcnow())
    session.add(refund)
    refusal = refund_refusal(charge, source, request)
    if refusal is None:
        charge.refund_reserved += refund.amount
        await session.flush()
        ctx.wake_after_commit(session)
        return
    _failed(refund, refusal)
    await session.flush()
    await events.refund_failed(session, refund, charge)


def _failed(row: Charge | ChargeRefund, reason: str) -> None:
    row.status = ChargeStatus.FAILED
    row.failure_reason = reason
    row.failed_at = utcnow()
    row.due_at = None


async def read_charge(repo: ChargeRepository, user: Principal, charge_id: uuid.UUID) -> Charge:
    """The charge if the caller is its payer, its payee or an admin; 404 to anyone else."""
    charge = await repo.get(charge_id)
    if charge is None or not (user.is_admin or user.user_id in (charge.payer_id, charge.payee_id)):
        raise not_found("Charge", charge_id)
    return charge


class ChargeDesk:
    """The worker's side: capture due charges and give back due refunds through the processor."""

    def __init__(self, ctx: PaymentContext) -> None:
        self.ctx = ctx
        self.database = ctx.database
        self.provider = ctx.provider
        self.settings = ctx.settings

    # --- charges -----------------------------------------------------------------------------

    async def run_charge(self, charge_id: uuid.UUID) -> bool:
        """One try of a due charge: processor first, then the books. False when not due here."""
        charge = await self._claim(Charge, charge_id)
        if charge is None:
            return False
        try:
            intent = await self.provider.charge(
                amount_cents=charge.amount, currency=charge.currency,
                payment_method=charge.payment_method, idempotency_key=charge_key(charge.id),
                reference=str(charge.id))
        except CardDeclined as exc:
            await self._fail_charge(charge_id, f"card declined: {exc.decline_code}")
        except IntentStateError as exc:
            await self._fail_charge(charge_id, f"payment provider refused the charge: {exc}")
        except ProviderError as exc:
            await self._charge_later(charge, exc)
        else:
            await self._captured(charge_id, intent)
        return True

    async def _charge_later(self, charge: Charge, exc: ProviderError) -> None:
        if charge.attempts < self.settings.charge_max_attempts:
            await self._retry_later(Charge, charge.id, exc)
            return
        intent = await self._find(charge_key(charge.id))
        if intent is UNKNOWN:
            await self._retry_later(Charge, charge.id, exc)
        elif intent is None:
            await self._fail_charge(charge.id, f"payment provider unavailable: {exc}")
        else:
            await self._captured(charge.id, intent)

    async def _captured(self, charge_id: uuid.UUID, intent: PaymentIntent) -> None:
        async with self.database.session() as session:
            repo = ChargeRepository(session)
            charge = await repo.get(charge_id, for_update=True)
            if charge.status != ChargeStatus.REQUESTED:
                return
            charge.status = ChargeStatus.CAPTURED
            charge.captured_at = utcnow()
            charge.provider_payment_id = intent.id
            charge.due_at = charge.last_error = None
            await ledger.post(session, capture_entry(charge.id, charge.payer_id, charge.payee_id,
                                                     split_of(charge), charge.currency),
                              charge.currency)
            await session.flush()
            await events.charge_captured(session, charge)
            if charge.refund_reserved:
                self.ctx.wake_after_commit(session)

    async def _fail_charge(self, charge_id: uuid.UUID, reason: str) -> None:
        """The charge failed: nothing was taken, and refunds waiting on it fail with it."""
        async with self.database.session() as session:
            repo = ChargeRepository(session)
            charge = await repo.get(charge_id, for_update=True)
            if charge.status != ChargeStatus.REQUESTED:
                return
            _failed(charge, reason)
            await session.flush()
            await events.charge_failed(session, charge)
            for refund in await repo.open_refunds_of(charge.id):
                _failed(refund, "the charge was not captured")
                charge.refund_reserved -= refund.amount
                await session.flush()
                await events.refund_failed(session, refund, charge)

    # --- refunds -----------------------------------------------------------------------------

    async def run_refund(self, refund_id: uuid.UUID) -> bool:
        """One try of a due refund of a captured charge. False when not due here."""
        refund = await self._claim(ChargeRefund, refund_id)
        if refund is None:
            return False
        async with self.database.session(write=False) as session:
            charge = await ChargeRepository(session).get(refund.charge_id)
        try:
            await self.provider.refund(charge.provider_payment_id,
                                       idempotency_key=refund_key(refund.id),
                                       amount_cents=refund.amount)
        except IntentStateError as exc:
            await self._fail_refund(refund_id, f"payment provider refused the refund: {exc}")
        except ProviderError as exc:
            await self._refund_later(refund, exc)
        else:
            await self._refunded(refund_id)
        return True

    async def _refund_later(self, refund: ChargeRefund, exc: ProviderError) -> None:
        if refund.attempts < self.settings.charge_max_attempts:
            await self._retry_later(ChargeRefund, refund.id, exc)
            return
        intent = await self._find(refund_key(refund.id))
        if intent is UNKNOWN:
            await self._retry_later(ChargeRefund, refund.id, exc)
        elif intent is None:
            await self._fail_refund(refund.id, f"payment provider unavailable: {exc}")
        else:
            await self._refunded(refund.id)

    async def _refunded(self, refund_id: uuid.UUID) -> None:
        async with self.database.session() as session:
            repo = ChargeRepository(session)
            refund = await repo.refund(refund_id)
            charge = await repo.get(refund.charge_id, for_update=True)
            refund = await repo.refund(refund_id, for_update=True)
            if refund.status != RefundStatus.REQUESTED:
                return
            entry = refund_entry(refund.id, charge.payer_id, split_of(charge), charge.currency,
                                 refunded_before=charge.refunded_total, amount=refund.amount)
            charge.refunded_total += refund.amount
            charge.refund_reserved -= refund.amount
            refund.status = RefundStatus.REFUNDED
            refund.refunded_at = utcnow()
            refund.due_at = refund.last_error = None
            await ledger.post(session, entry, charge.currency)
            await session.flush()
            await events.charge_refunded(session, charge, refund)

    async def _fail_refund(self, refund_id: uuid.UUID, reason: str) -> None:
        async with self.database.session() as session:
            repo = ChargeRepository(session)
            refund = await repo.refund(refund_id)
            charge = await repo.get(refund.charge_id, for_update=True)
            refund = await repo.refund(refund_id, for_update=True)
            if refund.status != RefundStatus.REQUESTED:
                return
            _failed(refund, reason)
            charge.refund_reserved -= refund.amount
            await session.flush()
            await events.refund_failed(session, refund, charge)

    # --- both --------------------------------------------------------------------------------

    async def _claim(self, model: type[Charge] | type[ChargeRefund], row_id: uuid.UUID):
        """The row, leased to this try, if it is still asked for and due; else None."""
        now = utcnow()
        async with self.database.session() as session:
            row = await session.get(model, row_id, with_for_update=True)
            if row is None or row.status != ChargeStatus.REQUESTED or row.due_at is None \
                    or row.due_at > now:
                return None
            row.attempts += 1
            row.due_at = now + timedelta(seconds=LEASE_SECONDS)
            return row

    async def _retry_later(self, model: type[Charge] | type[ChargeRefund], row_id: uuid.UUID,
                           exc: Exception) -> None:
        async with self.database.session() as session:
            row = await session.get(model, row_id, with_for_update=True)
            if row.status != ChargeStatus.REQUESTED:
                return
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.due_at = utcnow() + retry_delay(row.attempts,
                                                self.settings.action_retry_base_seconds)
        log.warning("charge call to retry", id=str(row_id), attempts=row.attempts, error=str(exc))

    async def _find(self, key: str):
        """The intent a call under ``key`` made, None when none did, UNKNOWN when unreachable."""
        try:
            return await self.provider.find(key)
        except ProviderError:
            return UNKNOWN
