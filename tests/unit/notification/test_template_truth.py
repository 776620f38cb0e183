"""Every notification tells the truth about the event and the role that triggered it.

Every rule is run for every role and for a paid and an unpaid booking; every notice it makes is
rendered in both languages on every channel, and the text is checked for claims the event does not
support: a booking event never knows whether money moved (payment events say that), the runner's
delivery is not the owner's confirmation, and only an owner is invited to book a trip.
"""

import re
import uuid

import pytest

from kilat.contracts import Contract, by_type
from kilat.services.notification import verticals
from kilat.services.notification.rules import RULES, notices_for
from kilat.services.notification.templates import TEMPLATES, render
from tests.unit.notification.samples import complete

ROLES = ("owner", "runner", "shop", "admin", "passenger", "driver", "customer", "courier", "gate")
CHANNELS = ("in_app", "push", "sms", "email")
LOCALES = ("en", "ms")

CLAIMS = {
    # the booking was paid for / money was processed
    "paid": re.compile(r"payment has been processed|(?<!not be )\bpaid\b|payment received|"
                       r"pembayaran telah diproses|(?<!tidak dapat )\bdibayar\b", re.IGNORECASE),
    # the owner confirmed the delivery
    "confirmed": re.compile(r"delivery (has been |was )?confirmed|confirmed (the )?delivery|"
                            r"penghantaran (telah )?disahkan", re.IGNORECASE),
    # an invitation to book a trip for one's pet
    "book_a_trip": re.compile(r"book your pet|tempah perjalanan", re.IGNORECASE),
}

# the claims a notice may make, by template; nothing else may be claimed
ALLOWED = {
    "payment.cash_out_completed": {"paid"},
    "payment.escrow_released": {"paid"},  # to the runner: the payout is theirs
    "identity.user_registered.owner": {"book_a_trip"},
}


def sample(event_type: str, role: str, paid: bool) -> Contract:
    """An event of ``event_type`` as its consumer reads it (the publisher's data parsed by the
    type's contract), ``role`` being the user's role."""
    user, owner, runner = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    data = {
        "booking_id": str(uuid.uuid4()), "booking_number": "KLT-0001", "owner_id": str(owner),
        "runner_id": str(runner), "user_id": str(user), "role": role, "full_name": "Ana",
        "email": "ana@example.com", "status": "completed", "estimated_price_cents": 4423,
        "final_price_cents": 4423, "currency": "MYR", "reason": "changed plans",
        "cancelled_by": str(owner), "cancelled_by_role": "owner", "declined_by": str(runner),
        "payment_id": str(uuid.uuid4()), "amount_cents": 4423, "runner_payout_cents": 3538,
        "cash_out_id": str(uuid.uuid4()), "subscription_id": str(uuid.uuid4()), "plan": "premium",
        "track_id": str(uuid.uuid4()), "total_distance_km": 4.2, "message_id": str(uuid.uuid4()),
        "sender_id": str(owner), "recipient_id": str(runner), "sender_role": "owner",
        "message_type": "text", "content": "Hello", "token": "123456",
        "expires_at": "2026-12-07T10:00:00Z", "referrer_id": str(uuid.uuid4()),
        "referee_id": str(user), "code": "ANA123", "referral_id": str(uuid.uuid4()),
        "reviewee_id": str(runner), "review_id": str(uuid.uuid4()), "rating": 5,
        "occurred_at": "2026-12-07T09:00:00+00:00", "code_id": str(uuid.uuid4()),
        "phone": "+6281234567890",
    }
    if not paid:  # the second variant of a chat message is a photo
        data["message_type"] = "image"
    if event_type.startswith("booking.") and paid:  # money fields a booking contract drops
        data |= {"payment_status": "held", "charged_cents": 4423}
    return by_type(event_type).model_validate(complete(event_type, data))


def texts(template: str, context: dict) -> list[str]:
    out = []
    for locale in LOCALES:
        for channel in CHANNELS:
            rendered = render(template, locale, channel, context)
            out += [rendered.title, rendered.body]
    return out


CASES = [(event_type, role, paid) for event_type in sorted(RULES) for role in ROLES
         for paid in (True, False)]


@pytest.mark.parametrize(("event_type", "role", "paid"), CASES)
def test_no_notice_claims_what_its_event_does_not_say(event_type, role, paid):
    for notice in notices_for(sample(event_type, role, paid)):
        allowed = ALLOWED.get(notice.template, set())
        for text in texts(notice.template, notice.context):
            made = {claim for claim, pattern in CLAIMS.items() if pattern.search(text)}
            assert made <= allowed, f"{notice.template} ({role}, paid={paid}) claims {made}: {text!r}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_its_own_welcome(role):
    (notice,) = notices_for(sample("identity.user_registered", role, False))
    welcome = " ".join(texts(notice.template, notice.context))
    assert bool(CLAIMS["book_a_trip"].search(welcome)) is (role == "owner")
    if role == "runner":
        assert "runner" in welcome and "jobs" in welcome
    if role == "shop":
        assert "shop" in welcome and "products" in welcome


def test_the_runners_delivery_asks_the_owner_to_confirm():
    (notice,) = notices_for(sample("booking.delivery_confirmed", "owner", True))
    assert render(notice.template, "en", "push", notice.context).body.endswith(
        "Please confirm the delivery in the app.")
    assert "Sila sahkan penghantaran" in render(notice.template, "ms", "push", notice.context).body


def test_every_template_is_checked_by_some_rule_or_role():
    """The verticals' templates are reached by their own events in their own tests."""
    used = {notice.template for event_type, role, paid in CASES
            for notice in notices_for(sample(event_type, role, paid))}
    assert set(TEMPLATES) - set(verticals.TEMPLATES) - used == set()
