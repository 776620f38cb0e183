"""The development sink on PostgreSQL: what one instance sent, any instance's admin route reads."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx

from kilat.platform.models import utcnow
from kilat.platform.runtime import ServiceRuntime, create_service_app
from kilat.services.notification import descriptor
from tests.service.notification.support import notification_service, publish
from tests.support.harness import auth_headers, postgres_database_url, require_postgres, wait_for


async def test_a_code_sent_by_one_instance_is_read_through_another(infra):
    require_postgres()
    url = postgres_database_url("kilat_notification")
    admin = auth_headers(infra, "admin")
    async with notification_service(infra, database_url=url) as (runtime, _):
        assert runtime.database.dialect == "postgresql"
        other = ServiceRuntime(descriptor, infra, database_url=url)
        await other.start(consume=False)
        try:
            other.context.dispatcher.stop()  # the first instance alone sends
            await asyncio.wait({other.context.worker})
            transport = httpx.ASGITransport(app=create_service_app(other))
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await publish(infra, "identity.sign_in_code_requested", {
                    "code_id": str(uuid.uuid4()), "phone": "+6281299990000", "code": "909090",
                    "expires_at": (utcnow() + timedelta(minutes=5)).isoformat(),
                    "valid_seconds": 300})

                async def read():
                    response = await client.get("/api/v1/admin/notifications/sink", headers=admin,
                                                params={"recipient": "+6281299990000"})
                    assert response.status_code == 200
                    return response.json()["data"] or None

                [message] = await wait_for(read)
                assert message["channel"] == "sms" and "909090" in message["body"]
                assert not other.context.sink.sent  # read from the database, not its memory
        finally:
            await other.stop()


async def test_migrated_schema_matches_the_models_on_postgres(infra):
    from tests.service.notification.test_migrations import differences

    require_postgres()
    async with notification_service(infra, database_url=postgres_database_url(
            "kilat_notification")) as (runtime, _):
        async with runtime.database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
