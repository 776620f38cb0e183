"""A ban survives Redis losing its data: running processes keep it, restarted ones relearn it."""

from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from kilat.contracts.identity import UserBanned
from kilat.platform.auth import TokenVerifier, load_public_key
from kilat.platform.events.nats import NatsBus
from kilat.platform.revocations import REDIS_PREFIX
from kilat.platform.runtime import Infrastructure
from kilat.services import booking, identity
from tests.integration.runner.private_redis import PrivateRedis
from tests.service.identity.support import make_admin
from tests.support.harness import (
    NATS_URL,
    postgres_database_url,
    private_stream,
    require_postgres,
    running_service,
    wait_for,
)
from tests.support.people import bearer, register, sign_up


async def test_a_ban_survives_a_redis_flush_and_a_restart_of_the_other_services(infra):
    require_postgres()
    async with AsyncExitStack() as stack:
        server = PrivateRedis()
        server.start()
        stack.callback(server.close)
        redis_url = server.url
        stream, prefix = await stack.enter_async_context(private_stream("banflush"))
        redis = aioredis.from_url(redis_url)
        stack.push_async_callback(redis.aclose)

        async def process() -> Infrastructure:
            """What one service process holds: its own bus connection, verifier and Redis client."""
            bus = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, request_timeout=2.0)
            await bus.start()
            stack.push_async_callback(bus.close)
            verifier = TokenVerifier(load_public_key(infra.settings.public_key_path),
                                     issuer=infra.settings.jwt_issuer)
            client = aioredis.from_url(redis_url)
            stack.push_async_callback(client.aclose)
            return Infrastructure(settings=infra.settings, bus=bus, verifier=verifier,
                                  issuer=infra.issuer, redis=client)

        identity_runtime, identity_client = await stack.enter_async_context(running_service(
            identity.descriptor, await process(),
            database_url=postgres_database_url("kilat_identity")))
        admin = await make_admin(identity_runtime, identity_client)
        banned = await sign_up(identity_client)
        user_id = banned["user"]["id"]
        ban = await identity_client.post(f"/api/v1/admin/users/{user_id}/ban",
                                         headers=bearer(admin["access_token"]))
        assert ban.status_code == 200, ban.text
        await wait_for(lambda: redis.exists(f"{REDIS_PREFIX}{user_id}"))
        since = datetime.now(UTC) - timedelta(minutes=1)
        await wait_for(lambda: identity_runtime.bus.recent(UserBanned.TYPE, since))  # relayed

        assert await redis.flushdb()
        profile = await identity_client.get("/api/v1/auth/profile",
                                            headers=bearer(banned["access_token"]))
        assert profile.status_code == 401  # a running process keeps the ban in memory

        # booking restarted after the flush: a new process, knowing nothing but its servers
        _, booking_client = await stack.enter_async_context(running_service(
            booking.descriptor, await process(),
            database_url=postgres_database_url("kilat_booking")))
        refused = await booking_client.get("/api/v1/bookings",
                                           headers=bearer(banned["access_token"]))
        assert refused.status_code == 401, refused.text
        assert refused.json()["detail"] == "the account is banned"
        other = await register(identity_client)
        served = await booking_client.get("/api/v1/bookings", headers=other.headers)
        assert served.status_code == 200, served.text
