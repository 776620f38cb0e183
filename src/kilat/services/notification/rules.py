"""Who hears about which event, with which template, on which channels (spec §3.12, fixed)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kilat.services.notification.domain import ALL_CHANNELS, Channel, format_distance, format_money

Data = dict[str, Any]


@dataclass(frozen=True)
class Notice:
    """One notification to one user, before templates and preferences are applied."""

    user_id: uuid.UUID
    template: str
    context: dict[str, Any]
    fact_key: str | None  # None: the event carries no fact id, so its event id is the key
    booking_id: uuid.UUID | None = None
    channels: frozenset[Channel] = ALL_CHANNELS
    # sent even when the user switched the channel off (account security)
    required: frozenset[Channel] = field(default_factory=frozenset)
    # the channel text holds a secret: hidden from operators, erased once delivered
    sensitive: bool = False


def as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _booking_context(data: Data) -> dict[str, Any]:
    return {"booking_number": data.get("booking_number") or "",
            "booking_id": str(data.get("booking_id") or "")}


def _to_owner(template: str, key: str | None = None) -> Callable[[str, Data], list[Notice]]:
    def rule(event_type: str, data: Data) -> list[Notice]:
        owner = as_uuid(data.get("owner_id"))
        if owner is None:
            return []
        fact = data.get(key or "booking_id")
        return [Notice(owner, template, _booking_context(data) | _extra(data),
                       f"{event_type}:{fact}" if fact else None, as_uuid(data.get("booking_id")))]

    return rule


def _extra(data: Data) -> dict[str, Any]:
    """Display values every template may use."""
    context: dict[str, Any] = {}
    for name in ("amount_cents", "runner_payout_cents", "final_price_cents", "estimated_price_cents"):
        if data.get(name) is not None:
            context[name.removesuffix("_cents")] = format_money(int(data[name]))
    if data.get("total_distance_km") is not None:
        context["distance_km"] = format_distance(data["total_distance_km"])
    if data.get("charged_cents") is not None:  # what the owner paid after promo and credit
        context["amount"] = format_money(int(data["charged_cents"]))
    for name in ("refund_reason", "pet_name", "code", "plan"):
        if data.get(name):
            context[name] = str(data[name])
    context["reason"] = str(data.get("reason") or "-")
    return context


def booking_accepted(event_type: str, data: Data) -> list[Notice]:
    owner = as_uuid(data.get("owner_id"))
    if owner is None:
        return []
    key = f"{event_type}:{data.get('booking_id')}:{data.get('runner_id')}"
    return [Notice(owner, "booking.accepted", _booking_context(data), key,
                   as_uuid(data.get("booking_id")))]


def booking_declined(event_type: str, data: Data) -> list[Notice]:
    owner = as_uuid(data.get("owner_id"))
    if owner is None:
        return []
    key = f"{event_type}:{data.get('booking_id')}:{data.get('declined_by')}:{data.get('occurred_at')}"
    return [Notice(owner, "booking.declined", _booking_context(data), key,
                   as_uuid(data.get("booking_id")))]


def cancellation_recipients(data: Data) -> list[uuid.UUID]:
    """Every party of the booking except the one who cancelled it."""
    canceller = as_uuid(data.get("cancelled_by"))
    role = data.get("cancelled_by_role")
    owner, runner = as_uuid(data.get("owner_id")), as_uuid(data.get("runner_id"))
    parties = [p for p in (owner, runner) if p is not None and p != canceller]
    if role == "owner":
        parties = [p for p in parties if p != owner]
    elif role == "runner":
        parties = [p for p in parties if p != runner]
    return parties


def booking_cancelled(event_type: str, data: Data) -> list[Notice]:
    context = _booking_context(data) | {"reason": data.get("reason") or "-"}
    return [Notice(user, "booking.cancelled", context, f"{event_type}:{data.get('booking_id')}",
                   as_uuid(data.get("booking_id")))
            for user in cancellation_recipients(data)]


def escrow_released(event_type: str, data: Data) -> list[Notice]:
    runner = as_uuid(data.get("runner_id"))
    if runner is None:
        return []
    payout = data.get("runner_payout_cents", data.get("amount_cents", 0))
    context = _booking_context(data) | {"amount": format_money(int(payout))}
    return [Notice(runner, "payment.escrow_released", context,
                   f"{event_type}:{data.get('payment_id')}", as_uuid(data.get("booking_id")))]


def _payment_to(user_field: str, template: str) -> Callable[[str, Data], list[Notice]]:
    def rule(event_type: str, data: Data) -> list[Notice]:
        user = as_uuid(data.get(user_field) or data.get("runner_id"))
        if user is None:
            return []
        amount = data.get("amount_cents", data.get("amount_myr_cents"))
        context = _booking_context(data) | _extra(data)
        if amount is not None:
            context["amount"] = format_money(int(amount))
        fact = data.get("payment_id") or data.get("cash_out_id") or data.get("referral_id")
        return [Notice(user, template, context, f"{event_type}:{fact}" if fact else None,
                       as_uuid(data.get("booking_id")))]

    return rule


def chat_message(event_type: str, data: Data) -> list[Notice]:
    recipient = as_uuid(data.get("recipient_id"))
    if recipient is None or recipient == as_uuid(data.get("sender_id")):
        return []
    template = "chat.message_sent" if data.get("message_type", "text") != "image" else "chat.image_sent"
    content = str(data.get("content") or "")
    context = _booking_context(data) | {
        "content": content if len(content) <= 140 else content[:137] + "...",
        "sender_id": str(data.get("sender_id") or ""), "sender_role": data.get("sender_role") or "",
    }
    return [Notice(recipient, template, context, f"{event_type}:{data.get('message_id')}",
                   as_uuid(data.get("booking_id")), channels=frozenset({Channel.PUSH}))]


WELCOMES = {"owner": "identity.user_registered.owner", "runner": "identity.user_registered.runner",
            "shop": "identity.user_registered.shop"}


def user_registered(event_type: str, data: Data) -> list[Notice]:
    """One welcome per role; a role without its own gets the plain one."""
    user = as_uuid(data.get("user_id"))
    context = {"name": data.get("full_name") or ""}
    template = WELCOMES.get(str(data.get("role") or ""), "identity.user_registered")
    return [Notice(user, template, context, f"{event_type}:{user}",
                   channels=frozenset({Channel.EMAIL, Channel.PUSH}))]


def password_reset(event_type: str, data: Data) -> list[Notice]:
    user = as_uuid(data.get("user_id"))
    token = str(data.get("token") or "")
    context = {"name": data.get("full_name") or "", "token": token,
               "expires_at": str(data.get("expires_at") or "")}
    fact = hashlib.sha256(token.encode()).hexdigest()[:32]
    return [Notice(user, "identity.password_reset_requested", context, f"{event_type}:{fact}",
                   channels=frozenset({Channel.EMAIL}), required=frozenset({Channel.EMAIL}),
                   sensitive=True)]


def referral_recorded(event_type: str, data: Data) -> list[Notice]:
    referrer = as_uuid(data.get("referrer_id"))
    if referrer is None:
        return []
    return [Notice(referrer, "identity.referral_recorded", {"code": data.get("code") or ""},
                   f"{event_type}:{data.get('referee_id')}")]


def review_created(event_type: str, data: Data) -> list[Notice]:
    reviewee = as_uuid(data.get("reviewee_id"))
    if reviewee is None:
        return []
    context = _booking_context(data) | {"rating": int(data.get("rating") or 0)}
    return [Notice(reviewee, "review.created", context, f"{event_type}:{data.get('review_id')}",
                   as_uuid(data.get("booking_id")), channels=frozenset({Channel.PUSH}))]


RULES: dict[str, Callable[[str, Data], list[Notice]]] = {
    "booking.requested": _to_owner("booking.requested"),
    "booking.accepted": booking_accepted,
    "booking.pet_picked_up": _to_owner("booking.pet_picked_up"),
    "booking.delivery_in_progress": _to_owner("booking.delivery_in_progress"),
    "booking.delivery_confirmed": _to_owner("booking.delivery_confirmed"),
    "booking.completed": _to_owner("booking.completed"),
    "booking.cancelled": booking_cancelled,
    "booking.declined": booking_declined,
    "payment.escrow_held": _to_owner("payment.escrow_held", "payment_id"),
    "payment.escrow_released": escrow_released,
    "payment.escrow_refunded": _to_owner("payment.escrow_refunded", "payment_id"),
    "payment.failed": _to_owner("payment.failed", "payment_id"),
    "payment.cash_out_completed": _payment_to("user_id", "payment.cash_out_completed"),
    "payment.cash_out_failed": _payment_to("user_id", "payment.cash_out_failed"),
    "payment.referral_credited": _payment_to("user_id", "payment.referral_credited"),
    "payment.subscription_started": _to_owner("payment.subscription_started", "subscription_id"),
    "payment.subscription_renewed": _to_owner("payment.subscription_renewed", "subscription_id"),
    "payment.subscription_cancelled": _to_owner("payment.subscription_cancelled", "subscription_id"),
    "payment.subscription_expired": _to_owner("payment.subscription_expired", "subscription_id"),
    "tracking.started": _to_owner("tracking.started", "track_id"),
    "tracking.completed": _to_owner("tracking.completed", "track_id"),
    "chat.message_sent": chat_message,
    "identity.user_registered": user_registered,
    "identity.password_reset_requested": password_reset,
    "identity.referral_recorded": referral_recorded,
    "review.created": review_created,
}


def notices_for(event_type: str, data: Data) -> list[Notice]:
    """The notifications an event produces; an event nobody should hear about gives none."""
    rule = RULES.get(event_type)
    return rule(event_type, data) if rule is not None else []
