"""The development sink: what log:// was given, stored where every instance reads it and read
back by admins; sign-in codes reach numbers that have no account yet."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from kilat.app import build_embedded_app
from kilat.platform.models import utcnow
from kilat.services.notification.models import Delivery, Notification, SinkMessage
from kilat.services.notification.sink import PRUNE_EVERY
from tests.service.notification.support import announce_user, notification_service, publish
from tests.support.harness import make_settings, wait_for
from tests.support.people import person

CODE_EVENT = "identity.sign_in_code_requested"


def code_event(phone: str, code: str = "123456", user_id: str | None = None) -> dict:
    expires = utcnow() + timedelta(minutes=5)
    return {"code_id": str(uuid.uuid4()), "phone": phone, "code": code,
            "expires_at": expires.isoformat(), "valid_seconds": 300, "user_id": user_id}


async def read_sink(client, headers, **params) -> list[dict]:
    response = await client.get("/api/v1/admin/notifications/sink", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def sink_for(client, headers, recipient: str, count: int = 1) -> list[dict]:
    async def arrived():
        found = await read_sink(client, headers, recipient=recipient)
        return found if len(found) >= count else None
    return await wait_for(arrived)


async def test_a_code_for_a_number_without_account_is_texted_and_readable_by_admins(infra):
    admin = person(infra, "admin").headers
    async with notification_service(infra) as (runtime, client):
        await publish(infra, CODE_EVENT, code_event("+6281234567890", "482913"))
        [message] = await sink_for(client, admin, "+6281234567890")
        assert set(message) == {"channel", "recipient", "subject", "body", "sent_at"}
        assert (message["channel"], message["recipient"]) == ("sms", "+6281234567890")
        assert "482913" in message["body"] and "5 minutes" in message["body"]
        async def recorded():
            async with runtime.database.session(write=False) as session:
                delivery = (await session.scalars(select(Delivery))).one()
                return delivery if delivery.status == "sent" else None
        delivery = await wait_for(recorded)
        async with runtime.database.session(write=False) as session:
            notification = (await session.scalars(select(Notification))).one()
        assert notification.user_id is None and delivery.user_id is None
        assert "482913" not in str(notification.metadata_) and "482913" not in notification.body
        # delivered secrets are erased from the queue; the admin's delivery list hides them too
        assert "482913" not in delivery.body
        listed = await client.get("/api/v1/admin/notifications/deliveries", headers=admin)
        assert listed.status_code == 200 and "482913" not in listed.text


async def test_a_code_to_a_user_goes_to_the_number_signed_in_despite_sms_off_and_quiet_hours(infra):
    admin = person(infra, "admin").headers
    async with notification_service(infra) as (_, client):
        user = await announce_user(infra, "passenger", phone="+6281111111111")
        assert (await client.put("/api/v1/notifications/preferences", headers=user.headers, json={
            "enable_sms": False, "phone_number": "+6289999999999",
            "quiet_hours_start": "00:00", "quiet_hours_end": "23:59"})).status_code == 200
        await publish(infra, CODE_EVENT, code_event("+6281111111111", "111222", user.id))
        [message] = await sink_for(client, admin, "+6281111111111")
        assert "111222" in message["body"]
        assert await read_sink(client, admin, recipient="+6289999999999") == []


async def test_the_same_code_event_twice_texts_once(infra):
    admin = person(infra, "admin").headers
    async with notification_service(infra) as (runtime, client):
        data = code_event("+6281222222222", "333444")
        await publish(infra, CODE_EVENT, data)
        await publish(infra, CODE_EVENT, data)  # the same fact under another event id
        await sink_for(client, admin, "+6281222222222")
        await publish(infra, CODE_EVENT, code_event("+6281222222222", "555666"))
        messages = await sink_for(client, admin, "+6281222222222", count=2)
        assert ["555666" in messages[0]["body"], "333444" in messages[1]["body"]] == [True, True]
        async with runtime.database.session(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(Notification)) == 2


async def test_the_sink_lists_newest_first_by_recipient_email_included(infra):
    admin = person(infra, "admin").headers
    async with notification_service(infra) as (_, client):
        user = await announce_user(infra, "passenger", email="sari@example.com", phone="+6281333333333")
        await sink_for(client, admin, "sari@example.com")  # the welcome email
        await publish(infra, CODE_EVENT, code_event("+6281333333333", "777888", user.id))
        await sink_for(client, admin, "+6281333333333")
        # a + left unencoded in the query arrives as a space: still found
        response = await client.get("/api/v1/admin/notifications/sink?recipient=+6281333333333",
                                    headers=admin)
        assert [m["recipient"] for m in response.json()["data"]] == ["+6281333333333"]
        everything = await read_sink(client, admin)
        assert [m["recipient"] for m in everything][:2] == ["+6281333333333", "sari@example.com"]
        assert len(await read_sink(client, admin, limit=1)) == 1


async def test_the_sink_keeps_a_bounded_number_of_messages(infra):
    admin = person(infra, "admin").headers
    sent = PRUNE_EVERY + 2  # the last pruning comes after message PRUNE_EVERY + 1
    async with notification_service(infra, sink_keep=3) as (runtime, client):
        for n in range(sent):
            await publish(infra, CODE_EVENT, code_event(f"+62814444444{n:02d}", f"{n:06d}"))
        await wait_for(lambda: len(runtime.context.sink.sent) == sent, timeout=15)
        async with runtime.database.session(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(SinkMessage)) == 4
        newest = await read_sink(client, admin)
        assert len(newest) == 4 and f"{sent - 1:06d}" in newest[0]["body"]


async def test_the_sink_route_is_for_admins_only(infra):
    async with notification_service(infra) as (_, client):
        anonymous = await client.get("/api/v1/admin/notifications/sink")
        assert anonymous.status_code == 401
        for role in ("passenger", "driver", "owner", "gate"):
            refused = await client.get("/api/v1/admin/notifications/sink",
                                       headers=person(infra, role).headers)
            assert refused.status_code == 403, role
        too_many = await client.get("/api/v1/admin/notifications/sink",
                                    headers=person(infra, "admin").headers, params={"limit": 501})
        assert too_many.status_code == 400


async def test_without_a_sink_the_route_is_404(infra):
    real = "webhook+http://127.0.0.1:1/send"
    async with notification_service(infra, push_providers=[real], sms_providers=[real],
                                     email_providers=[real]) as (runtime, client):
        response = await client.get("/api/v1/admin/notifications/sink",
                                    headers=person(infra, "admin").headers)
        assert response.status_code == 404 and response.json()["error"] == "no development sink"
        assert runtime.context.sink_store is None


async def test_phone_sign_in_through_the_gateway_reads_the_code_from_the_sink(tmp_path, monkeypatch):
    """What the verticals' end-to-end tests do: request a code, read it as an admin, sign in."""
    monkeypatch.setenv("KILAT_NOTIFICATION_WORKER_POLL_SECONDS", "0.05")
    app = build_embedded_app(make_settings(tmp_path), ["identity", "notification"])
    async with LifespanManager(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway") as gateway:
        issuer = app.state.runtimes["identity"].infra.issuer
        admin = {"Authorization": f"Bearer {issuer.access_token(uuid.uuid4(), 'a@x.test', 'admin')}"}
        sent = await gateway.post("/api/v1/auth/otp/request", json={"phone": "081298765432"})
        assert sent.status_code == 202, sent.text
        [message] = await sink_for(gateway, admin, "+6281298765432")
        code = next(word for word in message["body"].replace(".", " ").split()
                    if word.isdigit() and len(word) == 6)
        signed_in = await gateway.post("/api/v1/auth/otp/verify", json={
            "phone": "+6281298765432", "code": code, "role": "driver"})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["data"]["user"]["role"] == "driver"
