"""A whole booking journey as the other services announce it, read through the gateway: each
party has the notifications the spec lists, the owner's email reaches an SMTP server, and the
owner's review changes the runner's rating."""

import uuid

import httpx
from asgi_lifespan import LifespanManager

from kilat.app import build_embedded_app
from kilat.platform.events import Event
from tests.service.notification.support import smtp_server, wait_for
from tests.support.harness import make_settings

OWNER_HEARS = ["booking.requested", "payment.escrow_held", "booking.accepted", "tracking.started",
               "booking.pet_picked_up", "chat.message_sent", "booking.delivery_confirmed",
               "tracking.completed", "booking.completed"]
RUNNER_HEARS = ["chat.message_sent", "payment.escrow_released", "review.created"]


def journey(owner: uuid.UUID, runner: uuid.UUID) -> list[tuple[str, dict]]:
    booking = {"booking_id": str(uuid.uuid4()), "booking_number": "BK-J0URNY",
               "owner_id": str(owner), "estimated_price_cents": 4423, "currency": "MYR",
               "occurred_at": "2026-12-01T10:00:00Z"}
    assigned = booking | {"runner_id": str(runner)}
    money = {"payment_id": str(uuid.uuid4()), "booking_id": booking["booking_id"],
             "owner_id": str(owner), "runner_id": str(runner), "currency": "MYR"}
    track = {"track_id": str(uuid.uuid4()), "booking_id": booking["booking_id"],
             "owner_id": str(owner), "runner_id": str(runner)}

    def chat(sender, role, recipient, text):
        return {"message_id": str(uuid.uuid4()), "booking_id": booking["booking_id"],
                "sender_id": str(sender), "sender_role": role, "recipient_id": str(recipient),
                "message_type": "text", "content": text, "created_at": "2026-12-01T10:05:00Z"}

    return [
        ("identity.user_registered", {"user_id": str(owner), "email": "owner@journey.test",
                                      "full_name": "Aisyah", "phone": "+60123000001",
                                      "role": "owner", "referral_code_used": None}),
        ("identity.user_registered", {"user_id": str(runner), "email": "runner@journey.test",
                                      "full_name": "Ali", "phone": "+60123000002",
                                      "role": "runner", "referral_code_used": None}),
        ("booking.requested", booking | {"runner_id": None, "status": "requested",
                                         "pet_type": "cat", "pet_name": "Milo"}),
        ("payment.escrow_held", money | {"amount_cents": 4423, "discount_cents": 0,
                                         "promo_code": None}),
        ("booking.accepted", assigned | {"status": "accepted"}),
        ("tracking.started", track),
        ("booking.pet_picked_up", assigned | {"status": "in_progress"}),
        ("chat.message_sent", chat(runner, "runner", owner, "Milo is calm, on our way")),
        ("chat.message_sent", chat(owner, "owner", runner, "Thank you!")),
        ("booking.delivery_confirmed", assigned | {"status": "delivered"}),
        ("tracking.completed", track | {"total_distance_km": 8.26}),
        ("payment.escrow_released", money | {"amount_cents": 4423, "runner_payout_cents": 3760,
                                             "platform_fee_cents": 663}),
        ("booking.completed", assigned | {"status": "completed", "final_price_cents": 4423}),
    ]


async def test_full_journey_notifies_both_parties_and_the_review_moves_the_rating(tmp_path,
                                                                                 monkeypatch):
    async with smtp_server() as (mailbox, port):
        monkeypatch.setenv("KILAT_NOTIFICATION_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("KILAT_NOTIFICATION_SMTP_PORT", str(port))
        monkeypatch.setenv("KILAT_NOTIFICATION_WORKER_POLL_SECONDS", "0.05")
        app = build_embedded_app(make_settings(tmp_path), ["notification", "review"])
        async with LifespanManager(app), httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway") as gateway:
            runtime = app.state.runtimes["notification"]
            owner_id, runner_id = uuid.uuid4(), uuid.uuid4()
            issuer = runtime.infra.issuer
            owner = {"Authorization": f"Bearer {issuer.access_token(owner_id, 'o@j.test', 'owner')}"}
            runner = {"Authorization": f"Bearer {issuer.access_token(runner_id, 'r@j.test', 'runner')}"}
            steps = journey(owner_id, runner_id)
            for event_type, data in steps:
                await runtime.infra.bus.publish(Event(source=event_type.split(".")[0],
                                                      type=event_type, data=data))
            booking_id = steps[2][1]["booking_id"]

            async def reviewed():
                response = await gateway.post("/api/v1/reviews", headers=owner, json={
                    "booking_id": booking_id, "rating": 5, "comment": "Milo arrived happy"})
                return response if response.status_code == 201 else None

            await wait_for(reviewed, timeout=10)

            async def inbox(headers, expected):
                response = await gateway.get("/api/v1/notifications?limit=50", headers=headers)
                assert response.status_code == 200
                rows = response.json()["data"]
                types = sorted(n["event_type"] for n in rows)
                return rows if set(expected) <= set(types) else None

            owner_rows = await wait_for(lambda: inbox(owner, OWNER_HEARS), timeout=10)
            runner_rows = await wait_for(lambda: inbox(runner, RUNNER_HEARS), timeout=10)
            assert sorted(n["event_type"] for n in owner_rows) == sorted(
                OWNER_HEARS + ["identity.user_registered"])
            assert sorted(n["event_type"] for n in runner_rows) == sorted(
                RUNNER_HEARS + ["identity.user_registered"])
            texts = {n["event_type"]: n["body"] for n in runner_rows}
            assert texts["payment.escrow_released"] == "You've received RM 37.60 for your delivery"
            assert texts["chat.message_sent"] == "Thank you!"

            async def emailed():
                return [m for m in mailbox.to("owner@journey.test")
                        if m["Subject"] == "Booking Completed"]

            [email] = await wait_for(emailed, timeout=10)
            assert "Booking BK-J0URNY is complete. Thank you for using Kilat Pet Runner!" in email.get_content()

            rating = await gateway.get(f"/api/v1/reviews/runner/{runner_id}", headers=owner)
            assert (rating.json()["average"], rating.json()["count"]) == (5.0, 1)
