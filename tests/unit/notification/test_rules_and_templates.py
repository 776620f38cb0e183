"""Who hears which event, and every template renders in every locale and channel."""

import uuid

import pytest
from pydantic import ValidationError

from kilat.contracts import by_type
from kilat.contracts.booking import BookingCancelled
from kilat.services.notification import verticals
from kilat.services.notification.domain import Channel
from kilat.services.notification.rules import RULES, cancellation_recipients, notices_for
from kilat.services.notification.templates import IN_APP, TEMPLATES, render
from tests.unit.notification.samples import complete

OWNER, RUNNER, ADMIN = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
CORE_RULES = [event_type for event_type in RULES if event_type not in verticals.RULES]


def event(event_type: str, data: dict):
    """The payload a handler gets: ``data`` as it travels, parsed by its type's contract."""
    return by_type(event_type).model_validate(data)


def cancelled(by, role, runner=RUNNER) -> BookingCancelled:
    return BookingCancelled.model_validate({
        "booking_id": str(uuid.uuid4()), "booking_number": "BK-1", "owner_id": str(OWNER),
        "runner_id": str(runner) if runner else None, "cancelled_by": str(by),
        "cancelled_by_role": role, "reason": "sick"})


@pytest.mark.parametrize("by, role, runner, expected", [
    (OWNER, "owner", RUNNER, [RUNNER]),
    (OWNER, "owner", None, []),
    (RUNNER, "runner", RUNNER, [OWNER]),
    (ADMIN, "admin", RUNNER, [OWNER, RUNNER]),
    (ADMIN, "admin", None, [OWNER]),
])
def test_cancellation_reaches_everyone_but_the_canceller(by, role, runner, expected):
    assert cancellation_recipients(cancelled(by, role, runner)) == expected


def test_every_rule_has_templates_in_english_and_malay():
    for template, locales in TEMPLATES.items():
        assert set(locales) == {"en", "ms"}, template
        assert set(locales["en"]) == set(locales["ms"]), template


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("channel", [IN_APP, "push", "sms", "email"])
@pytest.mark.parametrize("locale", ["en", "ms"])
def test_template_renders_without_leftover_placeholders(template, channel, locale):
    rendered = render(template, locale, channel, {
        "booking_number": "BK-1", "amount": "RM 1.00", "reason": "r", "distance_km": "1.0",
        "sender": "Ali", "content": "hi", "name": "Siti", "token": "T", "expires_at": "soon",
        "code": "REF-1", "rating": 5})
    assert "{" not in rendered.title + rendered.body and rendered.title and rendered.body


def test_unknown_locale_falls_back_to_english():
    assert render("booking.accepted", "fr", IN_APP, {"booking_number": "BK-1"}).title == \
        "Runner Assigned!"


def test_sms_is_prefixed_and_email_is_framed():
    context = {"booking_number": "BK-1", "name": "Siti"}
    assert render("booking.accepted", "en", "sms", context).body == \
        "Kilat: A runner has accepted your booking BK-1"
    email = render("booking.accepted", "ms", "email", context)
    assert email.body.startswith("Hai Siti,\n\n") and email.body.rstrip().endswith("Kilat Pet Runner")


def test_password_reset_code_goes_by_email_even_when_email_is_switched_off():
    [notice] = notices_for(event("identity.password_reset_requested", {
        "user_id": str(OWNER), "token": "T-1", "expires_at": "2026-12-07T10:00:00+00:00",
        "email": "a@b.my"}))
    assert notice.channels == {Channel.EMAIL} and notice.required == {Channel.EMAIL}
    assert "T-1" not in notice.fact_key


def test_chat_is_push_only_and_never_echoes_to_the_sender():
    data = {"message_id": str(uuid.uuid4()), "booking_id": str(uuid.uuid4()), "sender_id": str(RUNNER),
            "sender_role": "runner", "recipient_id": str(OWNER), "message_type": "text",
            "content": "x" * 300}
    [notice] = notices_for(event("chat.message_sent", data))
    assert notice.user_id == OWNER and notice.channels == {Channel.PUSH}
    assert len(notice.context["content"]) == 140
    assert notices_for(event("chat.message_sent", data | {"recipient_id": str(RUNNER)})) == []


def test_events_without_a_recipient_or_not_for_users_produce_nothing():
    assert notices_for(event("booking.requested", {"booking_id": str(uuid.uuid4())})) == []
    assert notices_for(event("tracking.updated", {
        "track_id": str(uuid.uuid4()), "booking_id": str(uuid.uuid4()), "owner_id": str(OWNER),
        "latitude": 3.1, "longitude": 101.7})) == []
    assert notices_for(event("identity.profile_updated", {"user_id": str(OWNER)})) == []


def test_every_rule_keys_its_fact_so_a_repeat_is_recognised():
    booking_id = str(uuid.uuid4())
    data = {"booking_id": booking_id, "owner_id": str(OWNER), "runner_id": str(RUNNER),
            "payment_id": str(uuid.uuid4()), "track_id": str(uuid.uuid4()), "user_id": str(OWNER),
            "referrer_id": str(OWNER), "referee_id": str(uuid.uuid4()), "recipient_id": str(OWNER),
            "sender_id": str(RUNNER), "message_id": str(uuid.uuid4()), "reviewee_id": str(RUNNER),
            "review_id": str(uuid.uuid4()), "token": "k", "cancelled_by": str(ADMIN),
            "cancelled_by_role": "admin", "amount_cents": 1, "cash_out_id": str(uuid.uuid4()),
            "subscription_id": str(uuid.uuid4()), "referral_id": str(uuid.uuid4()),
            "email": "a@b.my", "expires_at": "2026-12-07T10:00:00+00:00", "code": "REF-1",
            "role": "owner", "rating": 5, "code_id": str(uuid.uuid4()), "phone": "+6281234567890"}
    for event_type in CORE_RULES:  # the verticals' rules are tested with their own events
        full = complete(event_type, data)
        first = notices_for(event(event_type, full))
        second = notices_for(event(event_type, dict(full)))
        assert first and [n.fact_key for n in first] == [n.fact_key for n in second], event_type


def test_credit_without_a_fact_id_is_keyed_by_its_event_so_equal_credits_both_notify():
    [notice] = notices_for(event("payment.referral_credited", {
        "user_id": str(OWNER), "referee_id": str(uuid.uuid4()), "role": "referee",
        "amount_cents": 500}))
    assert notice.fact_key is None and notice.context["amount"] == "RM 5.00"


def test_missing_fact_id_never_becomes_a_shared_key():
    # a subscription event without its id cannot be read, so it never notifies under "…:None"
    with pytest.raises(ValidationError):
        event("payment.subscription_started", {"owner_id": str(OWNER), "plan": "x"})


def code_requested(user_id: str | None = None) -> dict:
    return {"code_id": str(uuid.uuid4()), "phone": "+6281234567890", "code": "482913",
            "expires_at": "2026-12-08T00:05:00+00:00", "valid_seconds": 300, "user_id": user_id}


def test_a_sign_in_code_goes_by_sms_to_the_number_with_or_without_an_account():
    [anonymous] = notices_for(event("identity.sign_in_code_requested", code_requested()))
    assert anonymous.user_id is None
    assert anonymous.addresses == {Channel.SMS: "+6281234567890"}
    assert anonymous.channels == anonymous.required == frozenset({Channel.SMS})
    assert anonymous.sensitive
    [known] = notices_for(event("identity.sign_in_code_requested", code_requested(str(OWNER))))
    assert known.user_id == OWNER and known.addresses == anonymous.addresses
    for locale in ("en", "ms"):
        sms = render(known.template, locale, "sms", known.context).body
        assert "482913" in sms and "5" in sms
        assert "482913" not in render(known.template, locale, IN_APP, known.context).body


@pytest.mark.parametrize("role", ["passenger", "driver", "customer", "courier", "gate"])
def test_the_verticals_roles_get_their_own_welcome(role):
    [notice] = notices_for(event("identity.user_registered", {"user_id": str(OWNER), "role": role}))
    assert notice.template == f"identity.user_registered.{role}"
    english = render(notice.template, "en", "email", notice.context).body
    malay = render(notice.template, "ms", "email", notice.context).body
    assert english != malay and "Kilat" in english
