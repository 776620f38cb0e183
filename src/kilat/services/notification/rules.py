"""Who hears about which event, with which template, on which channels (spec §3.12, fixed)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kilat.contracts import Contract
from kilat.contracts.booking import (
    BookingAccepted,
    BookingCancelled,
    BookingCompleted,
    BookingDeclined,
    BookingRequested,
    DeliveryConfirmed,
    PetPickedUp,
)
from kilat.contracts.identity import (
    PasswordResetRequested,
    ReferralRecorded,
    SignInCodeRequested,
    UserRegistered,
)
from kilat.contracts.payment import (
    CashOutChanged,
    CashOutCompleted,
    CashOutFailed,
    EscrowHeld,
    EscrowRefunded,
    EscrowReleased,
    PaymentFailed,
    ReferralCredited,
    SubscriptionCancelled,
    SubscriptionExpired,
    SubscriptionRenewed,
    SubscriptionStarted,
)
from kilat.contracts.review import ReviewCreated
from kilat.contracts.tracking import ChatMessageSent, TrackingCompleted, TrackingStarted
from kilat.services.notification import verticals
from kilat.services.notification.domain import Channel, format_distance, format_money
from kilat.services.notification.notice import Notice, Rule




def _booking_context(payload: Contract) -> dict[str, Any]:
    booking_id = getattr(payload, "booking_id", None)
    return {"booking_number": getattr(payload, "booking_number", None) or "",
            "booking_id": str(booking_id) if booking_id else ""}


def _to_owner(key: str = "booking_id") -> Rule:
    """The owner hears the event, under the template named after it, once per ``key`` fact."""
    def rule(payload: Any) -> list[Notice]:
        if payload.owner_id is None:
            return []
        return [Notice(payload.owner_id, payload.TYPE, _booking_context(payload) | _extra(payload),
                       f"{payload.TYPE}:{getattr(payload, key)}",
                       getattr(payload, "booking_id", None))]

    return rule


def _extra(payload: Contract) -> dict[str, Any]:
    """Display values every template may use, from the fields the event's contract has."""
    def value(name: str) -> Any:
        return getattr(payload, name, None)

    context: dict[str, Any] = {}
    for name in ("amount_cents", "runner_payout_cents", "final_price_cents", "estimated_price_cents"):
        if value(name) is not None:
            context[name.removesuffix("_cents")] = format_money(value(name))
    if value("total_distance_km") is not None:
        context["distance_km"] = format_distance(value("total_distance_km"))
    if value("charged_cents") is not None:  # what the owner paid after promo and credit
        context["amount"] = format_money(value("charged_cents"))
    for name in ("refund_reason", "pet_name", "code", "plan"):
        if value(name):
            context[name] = str(value(name))
    context["reason"] = str(value("reason") or "-")
    return context


def booking_accepted(accepted: BookingAccepted) -> list[Notice]:
    if accepted.owner_id is None:
        return []
    key = f"{accepted.TYPE}:{accepted.booking_id}:{accepted.runner_id}"
    return [Notice(accepted.owner_id, accepted.TYPE, _booking_context(accepted), key,
                   accepted.booking_id)]


def booking_declined(declined: BookingDeclined) -> list[Notice]:
    if declined.owner_id is None:
        return []
    at = declined.occurred_at.isoformat() if declined.occurred_at else None
    key = f"{declined.TYPE}:{declined.booking_id}:{declined.declined_by}:{at}"
    return [Notice(declined.owner_id, declined.TYPE, _booking_context(declined), key,
                   declined.booking_id)]


def cancellation_recipients(cancelled: BookingCancelled) -> list[uuid.UUID]:
    """Every party of the booking except the one who cancelled it."""
    role = cancelled.cancelled_by_role
    owner, runner = cancelled.owner_id, cancelled.runner_id
    parties = [p for p in (owner, runner) if p is not None and p != cancelled.cancelled_by]
    if role == "owner":
        parties = [p for p in parties if p != owner]
    elif role == "runner":
        parties = [p for p in parties if p != runner]
    return parties


def booking_cancelled(cancelled: BookingCancelled) -> list[Notice]:
    context = _booking_context(cancelled) | {"reason": cancelled.reason or "-"}
    return [Notice(user, cancelled.TYPE, context, f"{cancelled.TYPE}:{cancelled.booking_id}",
                   cancelled.booking_id)
            for user in cancellation_recipients(cancelled)]


def escrow_released(released: EscrowReleased) -> list[Notice]:
    if released.runner_id is None:
        return []
    payout = released.runner_payout_cents
    if payout is None:
        payout = released.amount_cents or 0
    context = _booking_context(released) | {"amount": format_money(payout)}
    return [Notice(released.runner_id, released.TYPE, context,
                   f"{released.TYPE}:{released.payment_id}", released.booking_id)]


def _money_to_user(fact: str) -> Rule:
    """A cash-out or credit: its user (a cash-out's runner when it names no user) hears it."""
    def rule(payload: CashOutChanged | ReferralCredited) -> list[Notice]:
        user = payload.user_id or getattr(payload, "runner_id", None)
        if user is None:
            return []
        context = _booking_context(payload) | _extra(payload)
        if payload.amount_cents is not None:
            context["amount"] = format_money(payload.amount_cents)
        fact_id = getattr(payload, fact)
        return [Notice(user, payload.TYPE, context,
                       f"{payload.TYPE}:{fact_id}" if fact_id else None)]

    return rule


def chat_message(message: ChatMessageSent) -> list[Notice]:
    recipient = message.recipient_id
    if recipient is None or recipient == message.sender_id:
        return []
    template = "chat.image_sent" if message.message_type == "image" else message.TYPE
    content = message.content or ""
    context = _booking_context(message) | {
        "content": content if len(content) <= 140 else content[:137] + "...",
        "sender_id": str(message.sender_id), "sender_role": message.sender_role or "",
    }
    return [Notice(recipient, template, context, f"{message.TYPE}:{message.message_id}",
                   message.booking_id, channels=frozenset({Channel.PUSH}))]


# template names: one welcome per role
WELCOMES = {role: f"identity.user_registered.{role}"
            for role in ("owner", "runner", "shop", "passenger", "driver", "customer", "courier",
                         "gate")}


def user_registered(registered: UserRegistered) -> list[Notice]:
    """One welcome per role; a role without its own gets the plain one."""
    user = registered.user_id
    context = {"name": registered.full_name or ""}
    template = WELCOMES.get(registered.role or "", registered.TYPE)
    return [Notice(user, template, context, f"{registered.TYPE}:{user}",
                   channels=frozenset({Channel.EMAIL, Channel.PUSH}))]


def password_reset(reset: PasswordResetRequested) -> list[Notice]:
    context = {"name": reset.full_name or "", "token": reset.token,
               "expires_at": reset.expires_at.isoformat()}
    fact = hashlib.sha256(reset.token.encode()).hexdigest()[:32]
    return [Notice(reset.user_id, reset.TYPE, context, f"{reset.TYPE}:{fact}",
                   channels=frozenset({Channel.EMAIL}), required=frozenset({Channel.EMAIL}),
                   sensitive=True)]


def sign_in_code(requested: SignInCodeRequested) -> list[Notice]:
    """The code goes by SMS to the number being signed in, account or not (switches and quiet
    hours do not hold it back)."""
    minutes = max(1, (requested.valid_seconds or 300) // 60)
    context = {"sign_in_code": requested.code, "minutes": minutes,
               "expires_at": requested.expires_at.isoformat()}
    return [Notice(requested.user_id, requested.TYPE, context,
                   f"{requested.TYPE}:{requested.code_id}", channels=frozenset({Channel.SMS}),
                   required=frozenset({Channel.SMS}), sensitive=True,
                   addresses={Channel.SMS: requested.phone})]


def referral_recorded(referral: ReferralRecorded) -> list[Notice]:
    return [Notice(referral.referrer_id, referral.TYPE, {"code": referral.code},
                   f"{referral.TYPE}:{referral.referee_id}")]


def review_created(review: ReviewCreated) -> list[Notice]:
    if review.reviewee_id is None:
        return []
    context = _booking_context(review) | {"rating": review.rating}
    return [Notice(review.reviewee_id, review.TYPE, context, f"{review.TYPE}:{review.review_id}",
                   review.booking_id, channels=frozenset({Channel.PUSH}))]


RULES: dict[str, Rule] = {
    BookingRequested.TYPE: _to_owner(),
    BookingAccepted.TYPE: booking_accepted,
    PetPickedUp.TYPE: _to_owner(),
    DeliveryConfirmed.TYPE: _to_owner(),
    BookingCompleted.TYPE: _to_owner(),
    BookingCancelled.TYPE: booking_cancelled,
    BookingDeclined.TYPE: booking_declined,
    EscrowHeld.TYPE: _to_owner("payment_id"),
    EscrowReleased.TYPE: escrow_released,
    EscrowRefunded.TYPE: _to_owner("payment_id"),
    PaymentFailed.TYPE: _to_owner("payment_id"),
    CashOutCompleted.TYPE: _money_to_user("cash_out_id"),
    CashOutFailed.TYPE: _money_to_user("cash_out_id"),
    ReferralCredited.TYPE: _money_to_user("referral_id"),
    SubscriptionStarted.TYPE: _to_owner("subscription_id"),
    SubscriptionRenewed.TYPE: _to_owner("subscription_id"),
    SubscriptionCancelled.TYPE: _to_owner("subscription_id"),
    SubscriptionExpired.TYPE: _to_owner("subscription_id"),
    TrackingStarted.TYPE: _to_owner("track_id"),
    TrackingCompleted.TYPE: _to_owner("track_id"),
    ChatMessageSent.TYPE: chat_message,
    UserRegistered.TYPE: user_registered,
    PasswordResetRequested.TYPE: password_reset,
    SignInCodeRequested.TYPE: sign_in_code,
    ReferralRecorded.TYPE: referral_recorded,
    ReviewCreated.TYPE: review_created,
} | verticals.RULES


def notices_for(payload: Contract) -> list[Notice]:
    """The notifications an event (its parsed contract) produces; one nobody should hear about
    gives none."""
    rule = RULES.get(getattr(payload, "TYPE", ""))
    return rule(payload) if rule is not None else []
