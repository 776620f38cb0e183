"""Schemathesis over the notification API: never a 5xx, every response matches the OpenAPI."""

import uuid

from tests.service.notification.support import (
    notification_service,
    publish,
    announce_user,
    wait_for,
    wait_inbox,
)
from tests.support.contract import fuzz_openapi
from tests.support.harness import auth_headers

OPERATIONS = 15 + 2  # the notification service's, and the kernel's two dead-letter admin routes


async def test_every_operation_keeps_its_openapi_contract(infra):
    async with notification_service(infra, smtp_host="127.0.0.1", smtp_port=1,
                                    max_retries=0) as (runtime, client):
        owner = await announce_user(infra, "owner")
        admin = auth_headers(infra, "admin")
        welcome = await wait_inbox(client, owner, "identity.user_registered")

        async def dead():
            rows = (await client.get("/api/v1/admin/notifications/dead-letters",
                                     headers=admin)).json()["data"]
            return rows[0] if rows else None

        delivery = await wait_for(dead)
        await publish(infra, "payment.referral_credited",
                      {"user_id": str(owner.user_id), "referee_id": str(uuid.uuid4()),
                       "role": "referrer", "amount_cents": 500})
        ids = {"notification_id": welcome["id"], "delivery_id": delivery["id"]}

        def headers_for(_method: str, path: str) -> dict:
            return admin if path.startswith("/api/v1/admin") else owner.headers

        assert await fuzz_openapi(client, headers_for, ids=ids) == OPERATIONS
