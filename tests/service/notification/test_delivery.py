"""Channel delivery: SMTP, webhook providers with fallback, retries, dead letters, quiet hours."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.service.notification.support import (
    notification_service,
    publish,
    announce_user,
    smtp_server,
    wait_for,
    wait_inbox,
    webhook_server,
)
from tests.support.harness import auth_headers


def accepted(owner, runner) -> dict:
    return {"booking_id": str(uuid.uuid4()), "booking_number": "BK-QUIET1",
            "owner_id": str(owner.user_id), "runner_id": str(runner.user_id), "status": "accepted",
            "estimated_price_cents": 4423, "currency": "MYR", "occurred_at": "2026-12-01T10:00:00Z"}


async def deliveries(client, infra, notification_id: str, **params) -> dict[str, dict]:
    response = await client.get("/api/v1/admin/notifications/deliveries",
                                headers=auth_headers(infra, "admin"), params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return {d["channel"]: d for d in response.json()["data"]
            if d["notification_id"] == notification_id}


async def wait_delivery(client, infra, notification_id: str, channel: str, status: str) -> dict:
    async def reached():
        found = (await deliveries(client, infra, notification_id)).get(channel)
        return found if found and found["status"] == status else None

    return await wait_for(reached)


async def with_token(client, person, token="fcm-token-1") -> None:
    """Register a device once the welcome is handled, so only later notifications are pushed."""
    await wait_inbox(client, person, "identity.user_registered")
    response = await client.post("/api/v1/notifications/fcm-token", headers=person.headers,
                                 json={"token": token})
    assert response.status_code == 200


async def test_email_is_delivered_over_smtp_to_a_real_server(infra):
    async with smtp_server() as (mailbox, port), \
            notification_service(infra, smtp_host="127.0.0.1", smtp_port=port,
                                 smtp_from="Kilat <hello@kilat.test>") as (_, client):
        owner = await announce_user(infra, "owner", name="Aisyah", email="aisyah@example.com")
        runner = await announce_user(infra, "runner")
        await publish(infra, "booking.accepted", accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        await wait_delivery(client, infra, note["id"], "email", "sent")
        [message] = [m for m in mailbox.to("aisyah@example.com")
                     if m["Subject"] == "Runner Assigned!"]
        assert message["To"] == "aisyah@example.com" and message["From"] == "Kilat <hello@kilat.test>"
        body = message.get_content()
        assert body.startswith("Hi Aisyah,")
        assert "A runner has accepted your booking BK-QUIET1" in body
        assert [m["Subject"] for m in mailbox.to("aisyah@example.com")].count("Welcome to Kilat") == 1


async def test_unreachable_smtp_server_is_retried_then_dead_lettered(infra):
    async with notification_service(infra, smtp_host="127.0.0.1", smtp_port=1,
                                    max_retries=1) as (_, client):
        owner = await announce_user(infra, "owner")
        note = await wait_inbox(client, owner, "identity.user_registered")
        failed = await wait_delivery(client, infra, note["id"], "email", "failed")
        assert failed["attempts"] == 2 and "smtp://127.0.0.1:1" in failed["last_error"]


async def test_push_goes_to_the_webhook_gateway_as_json(infra):
    async with webhook_server() as hook, \
            notification_service(infra, push_providers=[hook.url]) as (_, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await with_token(client, owner, "device-42")
        await publish(infra, "booking.accepted", data := accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        sent = await wait_delivery(client, infra, note["id"], "push", "sent")
        assert sent["provider"] == f"webhook+http://127.0.0.1:{hook.port}/send"
        [payload] = [p for p in hook.received if p["data"]["event_type"] == "booking.accepted"]
        assert payload["channel"] == "push" and payload["to"] == "device-42"
        assert payload["title"] == "Runner Assigned!"
        assert payload["body"] == "A runner has accepted your booking BK-QUIET1"
        assert payload["data"]["booking_id"] == data["booking_id"]
        assert payload["data"]["notification_id"] == note["id"]


async def test_failing_first_provider_falls_back_to_the_second(infra):
    async with webhook_server(always_fail=True) as broken, webhook_server() as backup, \
            notification_service(infra, sms_providers=[broken.url, backup.url]) as (_, client):
        owner = await announce_user(infra, "owner", phone="+60111222333")
        note = await wait_inbox(client, owner, "identity.user_registered")
        runner = await announce_user(infra, "runner")
        await publish(infra, "booking.accepted", accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        sent = await wait_delivery(client, infra, note["id"], "sms", "sent")
        assert sent["attempts"] == 1
        assert sent["provider"] == f"webhook+http://127.0.0.1:{backup.port}/send"
        assert broken.calls >= 1 and broken.received == []
        [payload] = backup.received
        assert payload["to"] == "+60111222333"
        assert payload["body"] == "Kilat: A runner has accepted your booking BK-QUIET1"


async def test_failed_push_is_retried_with_backoff_until_it_succeeds(infra):
    async with webhook_server(fail_first=2) as hook, \
            notification_service(infra, push_providers=[hook.url], max_retries=3) as (_, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await with_token(client, owner)
        await publish(infra, "booking.accepted", accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        sent = await wait_delivery(client, infra, note["id"], "push", "sent")
        assert sent["attempts"] == 3 and hook.calls == 3 and len(hook.received) == 1
        final = (await client.get(f"/api/v1/notifications/{note['id']}",
                                  headers=owner.headers)).json()["data"]
        assert final["status"] == "sent" and final["channels_sent"] == ["email", "push", "sms"]


async def test_exhausted_push_is_dead_lettered_and_an_admin_replays_it(infra):
    async with webhook_server(always_fail=True) as hook, \
            notification_service(infra, push_providers=[hook.url], max_retries=2) as (_, client):
        admin = auth_headers(infra, "admin")
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await with_token(client, owner)
        await publish(infra, "booking.accepted", accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        dead = await wait_delivery(client, infra, note["id"], "push", "failed")
        assert dead["attempts"] == 3 and "HTTP 503" in dead["last_error"]
        listed = await client.get("/api/v1/admin/notifications/dead-letters", headers=admin)
        assert [d["id"] for d in listed.json()["data"]] == [dead["id"]]
        failed = (await client.get(f"/api/v1/notifications/{note['id']}",
                                   headers=owner.headers)).json()["data"]
        assert failed["status"] == "partially_sent" and failed["channels_failed"] == ["push"]

        assert (await client.post(f"/api/v1/admin/notifications/dead-letters/{dead['id']}/replay",
                                  headers=owner.headers)).status_code == 403
        hook.always_fail = False
        replay = await client.post(f"/api/v1/admin/notifications/dead-letters/{dead['id']}/replay",
                                   headers=admin)
        assert replay.status_code == 200 and replay.json()["data"]["status"] == "pending"
        sent = await wait_delivery(client, infra, note["id"], "push", "sent")
        assert sent["attempts"] == 1 and len(hook.received) == 1
        listed = await client.get("/api/v1/admin/notifications/dead-letters", headers=admin)
        assert listed.json()["data"] == []
        again = await client.post(f"/api/v1/admin/notifications/dead-letters/{dead['id']}/replay",
                                  headers=admin)
        assert again.status_code == 409
        missing = await client.post(f"/api/v1/admin/notifications/dead-letters/{uuid.uuid4()}/replay",
                                    headers=admin)
        assert missing.status_code == 404


async def test_quiet_hours_defer_push_and_sms_until_the_window_ends(infra):
    async with notification_service(infra) as (runtime, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await with_token(client, owner)
        zone = ZoneInfo("Asia/Kuala_Lumpur")
        now = datetime.now(UTC)
        local = now.astimezone(zone)
        start = (local - timedelta(hours=1)).strftime("%H:%M")
        end_local = (local + timedelta(hours=1)).replace(second=0, microsecond=0)
        response = await client.put("/api/v1/notifications/preferences", headers=owner.headers, json={
            "quiet_hours_start": start, "quiet_hours_end": end_local.strftime("%H:%M"),
            "timezone": "Asia/Kuala_Lumpur"})
        assert response.status_code == 200

        await publish(infra, "booking.accepted", accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        await wait_delivery(client, infra, note["id"], "email", "sent")
        held = await deliveries(client, infra, note["id"])
        window_end = end_local.astimezone(UTC)
        for channel in ("push", "sms"):
            assert held[channel]["status"] == "deferred"
            assert datetime.fromisoformat(held[channel]["deferred_until"]) == window_end
        assert (await client.get(f"/api/v1/notifications/{note['id']}", headers=owner.headers)
                ).json()["data"]["status"] == "pending"

        context = runtime.context
        context.clock = lambda: window_end + timedelta(seconds=1)
        context.dispatcher.wake()
        for channel in ("push", "sms"):
            sent = await wait_delivery(client, infra, note["id"], channel, "sent")
            assert sent["attempts"] == 1
        pushed = [m for m in context.sink.sent if m.channel == "push"]
        assert [m.subject for m in pushed] == ["Runner Assigned!"]


async def test_channels_switched_off_are_skipped_but_the_in_app_record_stays(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                         json={"enable_push": False, "enable_sms": False, "enable_email": False})
        await with_token(client, owner)
        await publish(infra, "booking.accepted", accepted(owner, runner))
        note = await wait_inbox(client, owner, "booking.accepted")
        assert note["status"] == "sent" and note["channels_sent"] == []
        assert await deliveries(client, infra, note["id"]) == {}


async def test_delivery_admin_endpoints_need_an_admin_and_valid_filters(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        for path in ("/api/v1/admin/notifications", "/api/v1/admin/notifications/deliveries",
                     "/api/v1/admin/notifications/dead-letters"):
            assert (await client.get(path, headers=owner.headers)).status_code == 403
            assert (await client.get(path)).status_code == 401
        bad = await client.get("/api/v1/admin/notifications/deliveries?status=lost",
                               headers=auth_headers(infra, "admin"))
        assert bad.status_code == 400
        everyone = await client.get("/api/v1/admin/notifications",
                                    params={"user_id": str(owner.user_id)},
                                    headers=auth_headers(infra, "admin"))
        assert everyone.status_code == 200
