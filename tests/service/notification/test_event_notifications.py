"""One test per event type: the right person gets the right text (and the other party does not)."""

import uuid

import pytest

from tests.support.harness import auth_headers
from tests.service.notification.support import (
    inbox,
    notification_service,
    publish,
    announce_user,
    wait_for,
    wait_inbox,
)

NUMBER = "BK-7MC56E"


def booking(owner, runner, status="requested", **extra) -> dict:
    return {"booking_id": str(extra.pop("booking_id", uuid.uuid4())), "booking_number": NUMBER,
            "owner_id": str(owner.user_id), "runner_id": str(runner.user_id) if runner else None,
            "status": status, "estimated_price_cents": 4423, "currency": "MYR",
            "occurred_at": "2026-12-01T10:00:00Z"} | extra


def payment(owner, runner, booking_id, **extra) -> dict:
    return {"payment_id": str(uuid.uuid4()), "booking_id": booking_id, "owner_id": str(owner.user_id),
            "runner_id": str(runner.user_id), "currency": "MYR"} | extra


def track(owner, runner, booking_id, **extra) -> dict:
    return {"track_id": str(uuid.uuid4()), "booking_id": booking_id, "owner_id": str(owner.user_id),
            "runner_id": str(runner.user_id)} | extra


def subscription(owner, status) -> dict:
    return {"subscription_id": str(uuid.uuid4()), "user_id": str(owner.user_id),
            "owner_id": str(owner.user_id), "plan": "premium", "price_cents": 2990,
            "currency": "MYR", "status": status, "expires_at": None}


# event type, data(owner, runner, booking_id), who hears it, title, body
CASES = [
    ("booking.requested", lambda o, r, b: booking(o, None, booking_id=b, pet_type="dog",
                                                    pet_name="Rex"),
     "owner", "Booking Created", f"Booking {NUMBER} created. Searching for nearby runners..."),
    ("booking.accepted", lambda o, r, b: booking(o, r, "accepted", booking_id=b),
     "owner", "Runner Assigned!", f"A runner has accepted your booking {NUMBER}"),
    ("booking.pet_picked_up", lambda o, r, b: booking(o, r, "in_progress", booking_id=b),
     "owner", "Pet Picked Up", f"Your pet has been picked up for booking {NUMBER}"),
    ("booking.delivery_confirmed", lambda o, r, b: booking(o, r, "delivered", booking_id=b),
     "owner", "Pet Delivered",
     f"Your runner has delivered your pet for booking {NUMBER}. "
     "Please confirm the delivery in the app."),
    ("booking.completed", lambda o, r, b: booking(o, r, "completed", booking_id=b,
                                                    final_price_cents=4423),
     "owner", "Booking Completed",
     f"Booking {NUMBER} is complete. Thank you for using Kilat Pet Runner!"),
    ("booking.declined", lambda o, r, b: booking(o, None, booking_id=b, reason="too_far",
                                                   declined_by=str(r.user_id)),
     "owner", "Finding Another Runner",
     f"The runner could not continue with booking {NUMBER}. We are finding you another runner."),
    ("payment.escrow_held", lambda o, r, b: payment(o, r, b, amount_cents=4423, discount_cents=442,
                                                      charged_cents=3981, promo_code="KILAT10"),
     "owner", "Payment Authorized", f"RM 39.81 for booking {NUMBER} is held safely in escrow"),
    ("payment.escrow_released", lambda o, r, b: payment(o, r, b, amount_cents=150000,
                                                          runner_payout_cents=127500,
                                                          platform_fee_cents=22500),
     "runner", "Payment Received", "You've received RM 1275.00 for your delivery"),
    ("payment.escrow_refunded", lambda o, r, b: payment(o, r, b, amount_cents=4423,
                                                          refund_reason="booking cancelled"),
     "owner", "Refund Processed", "A refund of RM 44.23 has been processed to your account"),
    ("payment.failed", lambda o, r, b: payment(o, r, b, reason="card declined"),
     "owner", "Payment Failed", "Payment Failed: card declined"),
    ("payment.cash_out_completed", lambda o, r, b: {"cash_out_id": str(uuid.uuid4()),
                                                      "runner_id": str(r.user_id),
                                                      "user_id": str(r.user_id),
                                                      "amount_cents": 39850},
     "runner", "Cash-out Completed", "Your cash-out of RM 398.50 has been paid"),
    ("payment.cash_out_failed", lambda o, r, b: {"cash_out_id": str(uuid.uuid4()),
                                                   "runner_id": str(r.user_id),
                                                   "user_id": str(r.user_id), "amount_cents": 39850,
                                                   "reason": "bank account closed"},
     "runner", "Cash-out Failed", "Your cash-out of RM 398.50 could not be paid: bank account closed"),
    ("payment.subscription_started", lambda o, r, b: subscription(o, "active"),
     "owner", "Subscription Active", "Your premium plan is active."),
    ("payment.subscription_renewed", lambda o, r, b: subscription(o, "active"),
     "owner", "Subscription Renewed", "Your premium plan has been renewed."),
    ("payment.subscription_cancelled", lambda o, r, b: subscription(o, "cancelled"),
     "owner", "Subscription Cancelled", "Your premium plan has been cancelled."),
    ("payment.subscription_expired", lambda o, r, b: subscription(o, "expired"),
     "owner", "Subscription Expired", "Your premium plan has expired. Renew it any time in the app."),
    ("payment.referral_credited", lambda o, r, b: {"user_id": str(o.user_id),
                                                     "referee_id": str(uuid.uuid4()),
                                                     "role": "referrer", "amount_cents": 500},
     "owner", "Referral Reward", "A referral reward of RM 5.00 has been credited to your account"),
    ("tracking.started", lambda o, r, b: track(o, r, b),
     "owner", "Live Tracking Started",
     f"Live tracking started for booking {NUMBER}. Follow your pet's trip in the app."),
    ("tracking.completed", lambda o, r, b: track(o, r, b, total_distance_km=12.345),
     "owner", "Tracking Completed", "Tracking completed. Total distance: 12.3 km"),
    ("chat.message_sent", lambda o, r, b: {"message_id": str(uuid.uuid4()), "booking_id": b,
                                             "sender_id": str(r.user_id), "sender_role": "runner",
                                             "recipient_id": str(o.user_id),
                                             "message_type": "text",
                                             "content": "I'm outside your gate",
                                             "created_at": "2026-12-01T10:00:00Z"},
     "owner", "New message from Ali", "I'm outside your gate"),
    ("identity.referral_recorded", lambda o, r, b: {"referral_id": str(uuid.uuid4()),
                                                      "referrer_id": str(o.user_id),
                                                      "referee_id": str(uuid.uuid4()),
                                                      "code": "REF-1a2b3c4d"},
     "owner", "New Referral", "Someone joined Kilat with your referral code REF-1a2b3c4d"),
    ("review.created", lambda o, r, b: {"review_id": str(uuid.uuid4()), "booking_id": b,
                                          "runner_id": str(r.user_id), "reviewer_id": str(o.user_id),
                                          "reviewee_id": str(r.user_id), "reviewer_role": "owner",
                                          "rating": 5, "comment": "Great", "tags": [],
                                          "created_at": "2026-12-01T10:00:00Z"},
     "runner", "New Review", f"You received a 5-star review for booking {NUMBER}"),
]


@pytest.mark.parametrize("event_type, data, recipient, title, body", CASES,
                         ids=[case[0] for case in CASES])
async def test_event_reaches_its_recipient_with_its_text(infra, event_type, data, recipient, title,
                                                         body):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner", name="Aisyah")
        runner = await announce_user(infra, "runner", name="Ali")
        booking_id = str(uuid.uuid4())
        if not event_type.startswith("booking."):
            await publish(infra, "booking.accepted", booking(owner, runner, "accepted",
                                                             booking_id=booking_id))
            await wait_inbox(client, owner, "booking.accepted")
        await publish(infra, event_type, data(owner, runner, booking_id))
        parties = {"owner": owner, "runner": runner}
        got = await wait_inbox(client, parties[recipient], event_type)
        assert (got["title"], got["body"]) == (title, body)
        assert got["is_read"] is False and got["type"] == event_type
        other = parties["runner" if recipient == "owner" else "owner"]
        assert [n for n in await inbox(client, other) if n["event_type"] == event_type] == []


async def cancellations(client, person) -> list[dict]:
    return [n for n in await inbox(client, person) if n["event_type"] == "booking.cancelled"]


@pytest.mark.parametrize("role, hears", [("owner", {"runner"}), ("runner", {"owner"}),
                                         ("admin", {"owner", "runner"})])
async def test_cancellation_goes_to_the_other_party_not_the_canceller(infra, role, hears):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        canceller = {"owner": owner.user_id, "runner": runner.user_id, "admin": uuid.uuid4()}[role]
        await publish(infra, "booking.cancelled", booking(
            owner, runner, "cancelled", cancelled_by=str(canceller), cancelled_by_role=role,
            reason="pet is unwell", previous_status="accepted"))
        parties = {"owner": owner, "runner": runner}
        for name in hears:
            got = await wait_inbox(client, parties[name], "booking.cancelled")
            assert got["body"] == f"Booking {NUMBER} was cancelled: pet is unwell"
        for name in {"owner", "runner"} - hears:
            assert await cancellations(client, parties[name]) == []


async def test_owner_cancelling_before_a_runner_was_assigned_notifies_nobody(infra):
    async with notification_service(infra) as (runtime, client):
        owner = await announce_user(infra, "owner")
        event = await publish(infra, "booking.cancelled", booking(
            owner, None, "cancelled", cancelled_by=str(owner.user_id), cancelled_by_role="owner",
            reason="changed plans"))

        async def handled():
            return await runtime.consumer.handle(event, runtime.consumer.handler_for(event.type)) is False

        await wait_for(handled)
        assert await cancellations(client, owner) == []


async def test_welcome_and_password_reset_reach_the_user_and_the_reset_code_goes_by_email_only(infra):
    async with notification_service(infra) as (runtime, client):
        user = await announce_user(infra, "owner", name="Siti", email="siti@example.com")
        welcome = await wait_inbox(client, user, "identity.user_registered")
        assert welcome["title"] == "Welcome to Kilat"
        await client.put("/api/v1/notifications/preferences", headers=user.headers,
                         json={"enable_email": False})
        await publish(infra, "identity.password_reset_requested", {
            "user_id": str(user.user_id), "email": user.email, "full_name": "Siti",
            "token": "RST-829104", "expires_at": "2026-12-01T11:00:00Z"})
        reset = await wait_inbox(client, user, "identity.password_reset_requested")
        assert reset["title"] == "Password Reset" and "RST-829104" not in reset["body"]
        admin = auth_headers(infra, "admin")

        async def emailed():
            rows = (await client.get("/api/v1/admin/notifications/deliveries",
                                     params={"user_id": str(user.user_id), "status": "sent"},
                                     headers=admin)).json()["data"]
            return [d for d in rows if d["notification_id"] == reset["id"]]

        [delivery] = await wait_for(emailed)
        assert delivery["channel"] == "email" and delivery["address"] == "siti@example.com"
        assert delivery["body"] == "[redacted]", "operators never see the reset code"
        [sent] = [m for m in runtime.context.sink.sent
                  if m.data["notification_id"] == reset["id"]]
        assert sent.body.startswith("Hi Siti,") and "RST-829104" in sent.body


async def test_banned_user_keeps_the_in_app_record_but_gets_nothing_else(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await wait_inbox(client, owner, "identity.user_registered")
        await publish(infra, "identity.user_banned", {"user_id": str(owner.user_id)})
        await publish(infra, "identity.profile_updated", {
            "user_id": str(runner.user_id), "email": "ali.new@example.com", "full_name": "Ali",
            "phone": "+60199999999"})
        await wait_for(lambda: _preference_email(client, runner, "ali.new@example.com"))
        await publish(infra, "booking.accepted", booking(owner, runner, "accepted"))
        note = await wait_inbox(client, owner, "booking.accepted")
        assert note["status"] == "sent" and note["channels_sent"] == []


async def _preference_email(client, person, email) -> bool:
    response = await client.get("/api/v1/notifications/preferences", headers=person.headers)
    return response.json()["data"]["email"] == email


async def test_same_fact_under_two_event_ids_notifies_once(infra):
    async with notification_service(infra) as (runtime, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        data = booking(owner, runner, "accepted")
        await publish(infra, "booking.accepted", data)
        await wait_inbox(client, owner, "booking.accepted")
        second = await publish(infra, "booking.accepted", data)

        async def handled():
            return await runtime.consumer.handle(second, runtime.consumer.handler_for(second.type)) is False

        await wait_for(handled)
        assert [n["event_type"] for n in await inbox(client, owner)].count("booking.accepted") == 1


async def test_malay_speaker_gets_malay_text_with_ringgit_amounts(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        response = await client.put("/api/v1/notifications/preferences", headers=runner.headers,
                                    json={"locale": "ms"})
        assert response.status_code == 200 and response.json()["data"]["locale"] == "ms"
        await publish(infra, "payment.escrow_released", payment(
            owner, runner, str(uuid.uuid4()), amount_cents=4423, runner_payout_cents=3760,
            platform_fee_cents=663))
        got = await wait_inbox(client, runner, "payment.escrow_released")
        assert (got["title"], got["body"]) == ("Pembayaran Diterima",
                                               "Anda telah menerima RM 37.60 untuk penghantaran anda")
