"""The escrow sagas: hold on initiate, release on delivery, refund on cancellation.

A saga is a chain of local transactions around calls to the card processor. Each step opens its
own short unit of work, because holding one open across a processor call would keep SQLite's
write lock for the whole call and would leave nothing committed to compensate from. When a step
fails, the steps already done are undone in reverse (cancel the hold, give back promo and credit)
and ``payment.failed`` is published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    KilatError,
    ServiceUnavailable,
    Unprocessable,
    not_found,
)
from kilat.platform.models import utcnow
from kilat.services.payment.adapters.provider import (
    CardDeclined,
    IntentStateError,
    PaymentIntent,
    ProviderError,
)
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow import events
from kilat.services.payment.escrow.domain import (
    PAYABLE_BOOKING_STATUSES,
    EscrowStatus,
    Quote,
    check_transition,
    credit_reserved_entry,
    hold_entry,
    quote_payment,
    return_entry,
)
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.escrow.schemas import PaymentInitiate
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.ledger.domain import credit_account
from kilat.services.payment.ledger.repository import LedgerRepository
from kilat.services.payment.models import BookingView, Payment, Promo, PromoUsage
from kilat.services.payment.promos.domain import (
    PROMO_ALREADY_USED,
    PROMO_NOT_FOUND,
    PROMO_UNAVAILABLE,
    evaluate_promo,
    normalise_code,
)
from kilat.services.payment.promos.repository import PromoRepository
from kilat.services.payment.promos.service import promo_terms
from kilat.services.payment.subscriptions.repository import SubscriptionRepository

log = structlog.get_logger(__name__)



class PaymentDeclined(KilatError):
    status_code = 402
    default_error = "payment declined"


class HoldAborted(Exception):
    pass


@dataclass(frozen=True)
class Attempt:
    payment_id: uuid.UUID
    attempt: int
    charged_cents: int
    currency: str
    payment_method: str | None

    @property
    def authorize_key(self) -> str:
        return f"authorize:{self.payment_id}:{self.attempt}"


def move(payment: Payment, status: EscrowStatus) -> None:
    check_transition(payment.escrow_status, status)
    payment.escrow_status = status


def quote_of(payment: Payment) -> Quote:
    return Quote(payment.amount_cents, payment.subscription_discount_cents,
                 payment.promo_discount_cents, payment.credit_applied_cents,
                 payment.platform_fee_cents, payment.runner_payout_cents)


async def return_funds(repo: EscrowRepository, payment: Payment, kind: str, *,
                       charged: int) -> None:
    """Give back what escrow holds (card money, the platform's discount, credit) and promo use."""
    discount = payment.discount_cents if charged else 0
    await ledger.post(repo.session, return_entry(
        kind, payment.id, payment.owner_id, charged=charged, discount=discount,
        credit=payment.credit_applied_cents, attempt=payment.attempt), payment.currency)
    await PromoRepository(repo.session).release_promo_use(payment.id)


def can_read(user: Principal, payment: Payment, booking: BookingView | None) -> bool:
    runners = {payment.runner_id, booking.runner_id if booking else None} - {None}
    return user.is_admin or user.user_id == payment.owner_id or user.user_id in runners


class Escrow:
    def __init__(self, ctx: PaymentContext) -> None:
        self.ctx = ctx
        self.database = ctx.database
        self.settings = ctx.settings
        self.provider = ctx.provider

    # --- hold --------------------------------------------------------------------------------

    async def initiate(self, user: Principal, body: PaymentInitiate) -> Payment:
        """Hold the booking's price (less discounts) in escrow, or fail and undo every step."""
        attempt = await self._open(user, body)
        try:
            intent = await self.provider.authorize(
                amount_cents=attempt.charged_cents, currency=attempt.currency,
                payment_method=attempt.payment_method, idempotency_key=attempt.authorize_key,
                reference=str(attempt.payment_id))
        except CardDeclined as exc:
            await self._fail(attempt, f"card declined: {exc.decline_code}", None)
            raise PaymentDeclined("payment declined", exc.decline_code) from exc
        except ProviderError as exc:
            await self._fail(attempt, f"payment provider error: {exc}",
                             await self._find_quietly(attempt.authorize_key))
            raise ServiceUnavailable("payment provider unavailable", "retry shortly") from exc
        try:
            return await self._hold(attempt, intent)
        except HoldAborted as exc:
            await self._fail(attempt, str(exc), intent)
            raise Conflict(str(exc)) from exc
        except Exception:
            await self._fail(attempt, "escrow could not be recorded", intent)
            raise

    async def _open(self, user: Principal, body: PaymentInitiate) -> Attempt:
        """Step 1: the payment as ``pending``, with its promo use and credit reserved."""
        try:
            async with self.database.session() as session:
                repo = EscrowRepository(session)
                booking = await repo.load_or_404(BookingView, body.booking_id, "Booking")
                self._check_payable(user, booking, body)
                existing = await repo.payment_for_booking(booking.booking_id)
                self._check_retry(existing)
                promo = await self._promo(repo, body.promo_code)
                quote = await self._quote(repo, user.user_id, booking.price_cents, promo)
                payment = self._new_attempt(repo, existing, booking)
                self._fill(payment, body, quote, promo)
                await session.flush()
                if promo is not None:
                    await self._use_promo(repo, promo, payment)
                await ledger.post(repo.session, credit_reserved_entry(
                    payment.id, payment.owner_id, quote.credit_applied_cents, payment.attempt),
                    payment.currency)
                return Attempt(payment.id, payment.attempt, quote.charged_cents, payment.currency,
                               payment.payment_method)
        except IntegrityError as exc:
            if "booking_id" not in str(exc.orig):
                raise
            raise Conflict("payment already exists for this booking") from exc

    @staticmethod
    def _check_payable(user: Principal, booking: BookingView, body: PaymentInitiate) -> None:
        if booking.owner_id != user.user_id:
            raise Forbidden("not your booking")
        if booking.status not in PAYABLE_BOOKING_STATUSES:
            raise Unprocessable(f"booking in status '{booking.status}' cannot be paid")
        if body.amount_cents is not None and body.amount_cents != booking.price_cents:
            raise BadRequest("amount_cents does not match the booking price",
                             f"the booking costs {booking.price_cents} cents")
        if body.currency is not None and body.currency != booking.currency:
            raise BadRequest("currency does not match the booking",
                             f"the booking is priced in {booking.currency}")

    @staticmethod
    def _check_retry(payment: Payment | None) -> None:
        """Only a failed payment may be tried again; any other one is a conflict."""
        if payment is None or payment.escrow_status == EscrowStatus.FAILED:
            return
        if payment.escrow_status == EscrowStatus.PENDING:
            raise Conflict("payment for this booking is being processed")
        raise Conflict("payment already exists for this booking",
                       f"payment {payment.id} is {payment.escrow_status}")

    @staticmethod
    def _new_attempt(repo: EscrowRepository, payment: Payment | None,
                     booking: BookingView) -> Payment:
        if payment is None:
            payment = Payment(booking_id=booking.booking_id, owner_id=booking.owner_id, attempt=0,
                              escrow_status=EscrowStatus.PENDING)
            repo.session.add(payment)
        else:
            move(payment, EscrowStatus.PENDING)
        payment.booking_number = booking.booking_number
        payment.currency = booking.currency
        payment.attempt += 1
        payment.failed_at = payment.failure_reason = None
        return payment

    @staticmethod
    async def _promo(repo: EscrowRepository, code: str | None) -> Promo | None:
        if not code:
            return None
        promo = await PromoRepository(repo.session).promo_by_code(normalise_code(code))
        if promo is None:
            raise BadRequest(PROMO_NOT_FOUND)
        return promo

    async def _quote(self, repo: EscrowRepository, owner_id: uuid.UUID, price: int,
                     promo: Promo | None) -> Quote:
        discount = 0
        if promo is not None:
            used = await PromoRepository(repo.session).promo_used_by(promo.id, owner_id)
            verdict = evaluate_promo(promo_terms(promo), price, utcnow(), already_used=used)
            if not verdict.valid:
                refused = Conflict if verdict.exhausted or used else BadRequest
                raise refused(verdict.message)
            discount = verdict.discount_cents
        subscription = await SubscriptionRepository(repo.session).active_subscription(
            owner_id, utcnow())
        ledger_repo = LedgerRepository(repo.session)
        await ledger_repo.lock_account(credit_account(owner_id))
        credit = max(0, await ledger_repo.balance(credit_account(owner_id)))
        return quote_payment(
            price, fee_percent=self.settings.platform_fee_percent,
            subscription_percent=subscription.discount_percent if subscription else 0,
            promo_discount_cents=discount, credit_available_cents=credit)

    @staticmethod
    def _fill(payment: Payment, body: PaymentInitiate, quote: Quote, promo: Promo | None) -> None:
        payment.amount_cents = quote.amount_cents
        payment.subscription_discount_cents = quote.subscription_discount_cents
        payment.promo_discount_cents = quote.promo_discount_cents
        payment.credit_applied_cents = quote.credit_applied_cents
        payment.charged_cents = quote.charged_cents
        payment.platform_fee_cents = quote.platform_fee_cents
        payment.runner_payout_cents = quote.runner_payout_cents
        payment.promo_id = promo.id if promo else None
        payment.promo_code = promo.code if promo else None
        payment.payment_method = body.payment_method
        payment.customer_email = str(body.customer_email) if body.customer_email else None

    @staticmethod
    async def _use_promo(repo: EscrowRepository, promo: Promo, payment: Payment) -> None:
        repo.session.add(PromoUsage(promo_id=promo.id, user_id=payment.owner_id,
                                    payment_id=payment.id,
                                    discount_cents=payment.promo_discount_cents))
        try:
            await repo.session.flush()
        except IntegrityError as exc:
            raise Conflict(PROMO_ALREADY_USED) from exc
        if not await PromoRepository(repo.session).claim_promo_use(promo.id):
            raise Conflict(PROMO_UNAVAILABLE)

    async def _hold(self, attempt: Attempt, intent: PaymentIntent) -> Payment:
        """Step 3: the authorization becomes escrow, in the ledger and ``payment.escrow_held``."""
        async with self.database.session() as session:
            repo = EscrowRepository(session)
            payment = await repo.load(Payment, attempt.payment_id, for_update=True)
            if payment.escrow_status != EscrowStatus.PENDING or payment.attempt != attempt.attempt:
                raise HoldAborted("payment changed while it was being authorized")
            booking = await repo.booking(payment.booking_id)
            if booking.status not in PAYABLE_BOOKING_STATUSES:
                raise HoldAborted(f"booking became '{booking.status}' while it was being paid")
            if not intent.is_authorized or intent.amount_cents != attempt.charged_cents:
                raise HoldAborted("the processor did not hold the expected amount")
            move(payment, EscrowStatus.HELD)
            payment.escrow_held_at = utcnow()
            payment.provider_payment_id = intent.id
            payment.authorization_expires_at = intent.expires_at
            payment.runner_id = booking.runner_id
            await ledger.post(repo.session, hold_entry(payment.id, payment.owner_id, quote_of(payment),
                                               payment.attempt), payment.currency)
            await session.flush()
            await events.escrow_held(session, payment)
            return payment

    async def _fail(self, attempt: Attempt, reason: str, intent: PaymentIntent | None) -> None:
        """Compensation: drop the hold, return promo use and credit, publish ``payment.failed``."""
        if intent is not None and intent.is_authorized:
            await self._void(intent.id, f"void:{attempt.payment_id}:{attempt.attempt}")
        async with self.database.session() as session:
            repo = EscrowRepository(session)
            payment = await repo.load(Payment, attempt.payment_id, for_update=True)
            if payment.escrow_status != EscrowStatus.PENDING or payment.attempt != attempt.attempt:
                return
            await return_funds(repo, payment, "void", charged=0)
            move(payment, EscrowStatus.FAILED)
            payment.failed_at = utcnow()
            payment.failure_reason = reason
            await session.flush()
            await events.payment_failed(session, payment)

    async def _void(self, intent_id: str, key: str) -> None:
        try:
            await self.provider.cancel(intent_id, idempotency_key=key)
        except (ProviderError, IntentStateError) as exc:
            log.warning("hold not cancelled; it lapses at expiry", intent=intent_id, error=str(exc))

    async def _find_quietly(self, key: str) -> PaymentIntent | None:
        try:
            return await self.provider.find(key)
        except ProviderError:
            return None

    async def recover(self, payment_id: uuid.UUID) -> None:
        """Finish a hold left ``pending`` by a crash: cancel whatever the processor holds."""
        async with self.database.session(write=False) as session:
            payment = await EscrowRepository(session).load(Payment, payment_id)
        if payment is None or payment.escrow_status != EscrowStatus.PENDING:
            return
        attempt = Attempt(payment.id, payment.attempt, payment.charged_cents, payment.currency,
                          payment.payment_method)
        await self._fail(attempt, "payment was interrupted",
                         await self._find_quietly(attempt.authorize_key))


async def read_payment(session: AsyncSession, user: Principal, payment: Payment | None,
                       reference: object) -> Payment:
    """The payment if the caller is its owner, its runner or an admin."""
    if payment is None:
        raise not_found("Payment", reference)
    if can_read(user, payment, None):
        return payment  # the owner, admin or recorded runner: no need to read the booking
    booking = await EscrowRepository(session).booking(payment.booking_id)
    if not can_read(user, payment, booking):
        raise Forbidden("not your payment")
    return payment
