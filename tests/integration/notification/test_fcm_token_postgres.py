"""Device-token registration on PostgreSQL: concurrent calls for one user all succeed, one row."""

from tests.service.notification.support import notification_service, announce_user
from tests.service.notification.test_fcm_token import check_ten_concurrent_registrations
from tests.support.harness import postgres_database_url, require_postgres


async def test_ten_concurrent_token_registrations_on_postgres_all_succeed(infra):
    require_postgres()
    url = postgres_database_url("kilat_notification")
    async with notification_service(infra, database_url=url) as (runtime, client):
        await check_ten_concurrent_registrations(runtime, client, await announce_user(infra, "owner"))


async def test_a_token_with_a_nul_is_400_on_postgres(infra):
    require_postgres()
    url = postgres_database_url("kilat_notification")
    async with notification_service(infra, database_url=url) as (_, client):
        owner = await announce_user(infra, "owner")
        response = await client.post("/api/v1/notifications/fcm-token", headers=owner.headers,
                                     json={"token": "device\x00"})
        assert response.status_code == 400 and response.json()["success"] is False
