"""A ban reaches every process: at once over NATS, and from Redis for a process started later."""

import asyncio
import uuid
from contextlib import AsyncExitStack

import pytest
import redis.asyncio as aioredis

from kilat.platform.auth import TokenVerifier, load_public_key
from kilat.platform.errors import Unauthorized
from kilat.platform.events.nats import NatsBus
from kilat.platform.revocations import REDIS_PREFIX, announce, follow
from kilat.platform.runtime import Infrastructure
from tests.support.harness import NATS_URL, REDIS_URL, private_stream, require_redis


async def test_a_ban_reaches_running_processes_over_nats_and_later_ones_from_redis(infra):
    require_redis()
    user_id = uuid.uuid4()
    token = infra.issuer.access_token(user_id, "banned@example.com", "runner")
    redis = aioredis.from_url(REDIS_URL)
    async with AsyncExitStack() as stack, private_stream("revoke") as (stream, prefix):
        stack.push_async_callback(redis.aclose)
        stack.push_async_callback(redis.delete, f"{REDIS_PREFIX}{user_id}")

        async def process() -> Infrastructure:
            """What one service process holds: its own bus connection and token verifier."""
            bus = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, request_timeout=2.0)
            await bus.start()
            stack.push_async_callback(bus.close)
            verifier = TokenVerifier(load_public_key(infra.settings.public_key_path),
                                     issuer=infra.settings.jwt_issuer)
            started = Infrastructure(settings=infra.settings, bus=bus, verifier=verifier,
                                     issuer=infra.issuer, redis=redis)
            await follow(started)
            return started

        identity, booking = await process(), await process()
        assert booking.verifier.principal(token).user_id == user_id  # remembered from here on
        await announce(identity, user_id)
        for _ in range(200):
            if booking.verifier.is_revoked(user_id):
                break
            await asyncio.sleep(0.01)
        with pytest.raises(Unauthorized):
            booking.verifier.principal(token)

        later = await process()  # started after the ban was announced
        with pytest.raises(Unauthorized):
            later.verifier.principal(token)
        ttl = await redis.ttl(f"{REDIS_PREFIX}{user_id}")
        assert 0 < ttl <= infra.settings.access_token_ttl_seconds + 62
