"""The payment provider port and the built-in provider (a manual-capture card processor)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from kilat.platform.models import utcnow
from kilat.services.payment.models import ProviderIntent, ProviderRequest


class IntentStatus(StrEnum):
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    status: str
    amount_cents: int
    amount_received_cents: int
    amount_refunded_cents: int
    currency: str
    expires_at: datetime | None

    @property
    def is_authorized(self) -> bool:
        return self.status == IntentStatus.REQUIRES_CAPTURE


class ProviderError(Exception):
    """Transient: the processor could not be reached or failed; the outcome is unknown."""


class CardDeclined(Exception):
    """Permanent: the card was refused; retrying with the same card will not help."""

    def __init__(self, decline_code: str) -> None:
        self.decline_code = decline_code
        super().__init__(f"card declined: {decline_code}")


class AuthorizationExpired(Exception):
    """The hold lapsed before it was captured; no money was taken."""


class IntentStateError(Exception):
    """The operation does not apply to the intent in its current state."""


class PaymentProvider(Protocol):
    """A card processor with manual capture (Stripe's PaymentIntent is the model).

    - ``authorize`` MUST place a hold of exactly ``amount_cents`` and return an intent in
      ``requires_capture`` whose ``expires_at`` says when the hold lapses; it MUST raise
      ``CardDeclined`` for a refused card and ``ProviderError`` when the outcome is unknown.
    - ``charge`` MUST take the money at once (automatic capture) and return ``succeeded``.
    - ``capture`` MUST take the held amount and return ``succeeded``; it MUST raise
      ``AuthorizationExpired`` once the hold has lapsed and ``IntentStateError`` for a canceled
      intent.
    - ``cancel`` MUST drop the hold and return ``canceled``; cancelling a lapsed or already
      canceled hold MUST succeed.
    - ``refund`` MUST give back ``amount_cents`` of a captured intent, or all that is left of it
      when ``amount_cents`` is None; refunds add up in ``amount_refunded_cents``, which MUST never
      exceed ``amount_received_cents``: a refund of more than is left (or of nothing) MUST raise
      ``IntentStateError`` and give back nothing. A caller MAY refund one intent several times,
      each time under its own key.
    - Every mutating call takes an ``idempotency_key``: a repeat with the same key MUST return the
      first call's outcome (the same intent or the same decline) without acting again, so a caller
      MAY retry any call whose outcome it did not learn.
    - ``find`` returns the intent a key created, or None when no call under that key succeeded.
    """

    async def authorize(self, *, amount_cents: int, currency: str, payment_method: str | None,
                        idempotency_key: str, reference: str) -> PaymentIntent: ...

    async def charge(self, *, amount_cents: int, currency: str, payment_method: str | None,
                     idempotency_key: str, reference: str) -> PaymentIntent: ...

    async def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent: ...

    async def refund(self, intent_id: str, *, idempotency_key: str,
                     amount_cents: int | None = None) -> PaymentIntent: ...

    async def find(self, idempotency_key: str) -> PaymentIntent | None: ...


# Test cards, named as Stripe names its own.
DECLINING_CARDS = {
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_insufficientFunds": "insufficient_funds",
    "pm_card_lostCard": "lost_card",
    "pm_card_expiredCard": "expired_card",
}
FAILING_CARD = "pm_card_processingError"
DEFAULT_CARD = "pm_card_visa"


class BuiltinProvider:
    """The processor Kilat ships: real holds, captures, expiry and keys, kept in its own tables.

    It runs its own short transactions, like a remote system; callers must not hold a database
    transaction open while calling it.
    """

    def __init__(self, database, *, authorization_expiry: timedelta,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.authorization_expiry = authorization_expiry
        self.clock = clock

    async def authorize(self, *, amount_cents, currency, payment_method, idempotency_key,
                        reference) -> PaymentIntent:
        return await self._create("authorize", amount_cents, currency, payment_method,
                                  idempotency_key, reference, manual=True)

    async def charge(self, *, amount_cents, currency, payment_method, idempotency_key,
                     reference) -> PaymentIntent:
        return await self._create("charge", amount_cents, currency, payment_method,
                                  idempotency_key, reference, manual=False)

    async def capture(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return await self._change("capture", intent_id, idempotency_key, self._capture)

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> PaymentIntent:
        return await self._change("cancel", intent_id, idempotency_key, self._cancel)

    async def refund(self, intent_id: str, *, idempotency_key: str,
                     amount_cents: int | None = None) -> PaymentIntent:
        return await self._change("refund", intent_id, idempotency_key,
                                  lambda intent: self._refund(intent, amount_cents))

    async def find(self, idempotency_key: str) -> PaymentIntent | None:
        async with self.database.session(write=False) as session:
            request = await session.get(ProviderRequest, idempotency_key)
            if request is None or request.intent_id is None:
                return None
            return _snapshot(await session.get(ProviderIntent, request.intent_id))

    async def retrieve(self, intent_id: str) -> PaymentIntent | None:
        async with self.database.session(write=False) as session:
            intent = await session.get(ProviderIntent, intent_id)
            return _snapshot(intent) if intent is not None else None

    async def _create(self, operation, amount_cents, currency, payment_method, key, reference,
                      *, manual: bool) -> PaymentIntent:
        card = payment_method or DEFAULT_CARD
        if card == FAILING_CARD:
            raise ProviderError("processing error")
        async with self.database.session() as session:
            replay = await self._replay(session, key, operation)
            if replay is not None:
                return replay
            if amount_cents < 0:
                raise IntentStateError("amount must not be negative")
            if card in DECLINING_CARDS:
                self._remember(session, key, operation, None, {"declined": DECLINING_CARDS[card]})
                declined = DECLINING_CARDS[card]
            else:
                declined = None
                intent = self._new_intent(amount_cents, currency, card, reference, manual)
                session.add(intent)
                self._remember(session, key, operation, intent.id, {"intent_id": intent.id})
        if declined is not None:
            raise CardDeclined(declined)
        return _snapshot(intent)

    def _new_intent(self, amount, currency, card, reference, manual: bool) -> ProviderIntent:
        now = self.clock()
        return ProviderIntent(
            id=f"pi_{secrets.token_hex(12)}",
            status=IntentStatus.REQUIRES_CAPTURE if manual else IntentStatus.SUCCEEDED,
            capture_method="manual" if manual else "automatic",
            amount_cents=amount, amount_received_cents=0 if manual else amount,
            amount_refunded_cents=0, currency=currency, payment_method=card, reference=reference,
            expires_at=now + self.authorization_expiry if manual else None,
            created_at=now, updated_at=now,
        )

    async def _change(self, operation, intent_id, key, apply) -> PaymentIntent:
        async with self.database.session() as session:
            replay = await self._replay(session, key, operation)
            if replay is not None:
                return replay
            intent = await session.get(ProviderIntent, intent_id, with_for_update=True)
            if intent is None:
                raise IntentStateError(f"no such payment intent: {intent_id}")
            self._lapse_if_expired(intent)
            error = apply(intent)
            intent.updated_at = self.clock()
            if error is None:
                self._remember(session, key, operation, intent.id, {"intent_id": intent.id})
        if error is not None:
            raise error
        return _snapshot(intent)

    def _lapse_if_expired(self, intent: ProviderIntent) -> None:
        lapsed = intent.expires_at is not None and self.clock() >= intent.expires_at
        if intent.status == IntentStatus.REQUIRES_CAPTURE and lapsed:
            intent.status = IntentStatus.CANCELED
            intent.cancellation_reason = "expired"

    @staticmethod
    def _capture(intent: ProviderIntent) -> Exception | None:
        if intent.status == IntentStatus.SUCCEEDED:
            return None
        if intent.status == IntentStatus.CANCELED:
            if intent.cancellation_reason == "expired":
                return AuthorizationExpired(intent.id)
            return IntentStateError(f"{intent.id} is canceled")
        intent.status = IntentStatus.SUCCEEDED
        intent.amount_received_cents = intent.amount_cents
        return None

    @staticmethod
    def _cancel(intent: ProviderIntent) -> Exception | None:
        if intent.status == IntentStatus.SUCCEEDED:
            return IntentStateError(f"{intent.id} was captured; refund it instead")
        if intent.status == IntentStatus.REQUIRES_CAPTURE:
            intent.status = IntentStatus.CANCELED
            intent.cancellation_reason = "requested_by_customer"
        return None

    @staticmethod
    def _refund(intent: ProviderIntent, amount_cents: int | None) -> Exception | None:
        if intent.status != IntentStatus.SUCCEEDED:
            return IntentStateError(f"{intent.id} has nothing captured to refund")
        left = intent.amount_received_cents - intent.amount_refunded_cents
        if amount_cents is None:
            amount_cents = left  # all that is left, nothing when all was given back already
        elif not 0 < amount_cents <= left:
            return IntentStateError(f"{intent.id}: a refund of {amount_cents} is more than "
                                    f"the {left} left to refund")
        intent.amount_refunded_cents += amount_cents
        return None

    async def _replay(self, session, key: str, operation: str) -> PaymentIntent | None:
        request = await session.get(ProviderRequest, key)
        if request is None:
            return None
        if request.operation != operation:
            raise IntentStateError(f"idempotency key {key} was used for {request.operation}")
        if "declined" in request.outcome:
            raise CardDeclined(request.outcome["declined"])
        return _snapshot(await session.get(ProviderIntent, request.intent_id))

    def _remember(self, session, key, operation, intent_id, outcome: dict) -> None:
        session.add(ProviderRequest(idempotency_key=key, operation=operation, intent_id=intent_id,
                                    outcome=outcome, created_at=self.clock()))


def _snapshot(intent: ProviderIntent) -> PaymentIntent:
    return PaymentIntent(intent.id, intent.status, intent.amount_cents,
                         intent.amount_received_cents, intent.amount_refunded_cents,
                         intent.currency, intent.expires_at)

