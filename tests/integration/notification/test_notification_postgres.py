"""The notification service on PostgreSQL: events to SMTP, and the queue shared by several workers."""

import asyncio
import uuid
from collections import Counter

import httpx

from kilat.platform.db import Database
from kilat.services.notification.dispatcher import Dispatcher
from kilat.services.notification.providers import LogSink, build_chains
from kilat.services.notification.settings import NotificationSettings
from tests.service.notification.support import (
    FAST,
    notification_service,
    publish,
    announce_user,
    smtp_server,
    wait_for,
    wait_inbox,
    webhook_server,
)
from tests.support.harness import auth_headers, postgres_database_url, require_postgres


def accepted(owner, runner) -> dict:
    return {"booking_id": str(uuid.uuid4()), "booking_number": "BK-PG0001",
            "owner_id": str(owner.user_id), "runner_id": str(runner.user_id), "status": "accepted",
            "estimated_price_cents": 4423, "currency": "MYR", "occurred_at": "2026-12-01T10:00:00Z"}


async def test_booking_event_lands_in_app_and_by_email_on_postgres(infra):
    require_postgres()
    url = postgres_database_url("kilat_notification")
    async with smtp_server() as (mailbox, port), \
            notification_service(infra, database_url=url, smtp_host="127.0.0.1",
                                 smtp_port=port) as (_, client):
        owner = await announce_user(infra, "owner", name="Aisyah", email="aisyah.pg@example.com")
        runner = await announce_user(infra, "runner")
        await publish(infra, "booking.accepted", data := accepted(owner, runner))
        await publish(infra, "booking.accepted", data)  # same fact, new event id
        note = await wait_inbox(client, owner, "booking.accepted")
        assert note["title"] == "Runner Assigned!"

        async def mailed():
            return [m for m in mailbox.to("aisyah.pg@example.com") if m["Subject"] == note["title"]]

        [message] = await wait_for(mailed)
        assert "A runner has accepted your booking BK-PG0001" in message.get_content()
        await asyncio.sleep(0.3)
        rows = (await client.get("/api/v1/notifications", headers=owner.headers)).json()["data"]
        assert [n["event_type"] for n in rows].count("booking.accepted") == 1


async def drain_all(dispatcher: Dispatcher) -> None:
    while await dispatcher.drain():
        pass


async def test_several_dispatchers_on_one_database_send_each_delivery_once(infra):
    require_postgres()
    url = postgres_database_url("kilat_notification")
    async with webhook_server() as hook, \
            notification_service(infra, database_url=url, push_providers=[hook.url]) as (runtime, client):
        context = runtime.context
        context.dispatcher.stop()
        await asyncio.wait({context.worker})
        owner = await announce_user(infra, "owner")
        runner = await announce_user(infra, "runner")
        await wait_inbox(client, owner, "identity.user_registered")  # welcomed before the token
        await client.post("/api/v1/notifications/fcm-token", headers=owner.headers,
                          json={"token": "device-pg"})
        for _ in range(24):
            await publish(infra, "booking.accepted", accepted(owner, runner))

        async def queued():
            response = await client.get("/api/v1/admin/notifications/deliveries",
                                        headers=auth_headers(infra, "admin"),
                                        params={"status": "pending", "channel": "push"})
            return response.json()["pagination"]["total"] == 24

        await wait_for(queued, timeout=10)
        settings = NotificationSettings(**FAST, worker_batch_size=4, push_providers=[hook.url])
        databases = [Database(url, service="notification") for _ in range(3)]
        sinks = [LogSink() for _ in databases]
        async with httpx.AsyncClient() as http:
            workers = [Dispatcher(db, settings, build_chains(settings, http, sink), context.now)
                       for db, sink in zip(databases, sinks, strict=True)]
            try:
                await asyncio.gather(*(drain_all(worker) for worker in workers))
            finally:
                for db in databases:
                    await db.dispose()

        pushed = Counter(p["data"]["delivery_id"] for p in hook.received)
        assert len(pushed) == 24 and set(pushed.values()) == {1}
        logged = Counter(m.data["delivery_id"] for sink in sinks for m in sink.sent)
        assert set(logged.values()) == {1}
        assert sum(1 for sink in sinks if sink.sent) > 1, "the work was shared between workers"
        left = await client.get("/api/v1/admin/notifications/deliveries",
                                headers=auth_headers(infra, "admin"), params={"status": "pending"})
        assert left.json()["data"] == []
