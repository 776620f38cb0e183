"""Distributed profile: gateways share one rate limit through Redis."""

import uuid

import pytest
import redis.asyncio as aioredis
from asgi_lifespan import LifespanManager

from tests.service.gateway.support import (
    away_from_window_edge,
    client_for,
    fake_service,
    gateway_over,
    gateway_settings,
)
from tests.support.harness import REDIS_URL, require_redis

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis():
    require_redis()
    client = aioredis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def client_ip():
    """A client address of its own, so other tests sharing this Redis never touch its count."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


async def forget(redis, client_ip: str) -> None:
    async for key in redis.scan_iter(match=f"kilat:ratelimit:*:{client_ip}"):
        await redis.delete(key)


async def test_two_gateways_share_one_limit(tmp_path, redis, client_ip):
    await away_from_window_edge()
    settings = gateway_settings(tmp_path, rate_limit_per_minute=5)
    first = gateway_over(settings, {"booking": fake_service("booking")}, redis=redis)
    second = gateway_over(settings, {"booking": fake_service("booking")}, redis=redis)
    try:
        async with client_for(first, client_ip=client_ip) as one, \
                client_for(second, client_ip=client_ip) as two:
            statuses = [(await client.get("/api/v1/bookings")).status_code
                        for client in (one, two, one, two, one)]
            refused = await two.get("/api/v1/bookings")
    finally:
        await forget(redis, client_ip)
    assert statuses == [200] * 5
    assert refused.status_code == 429
    assert refused.json()["error"] == "rate limit exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_counts_live_under_a_key_that_expires_with_its_window(tmp_path, redis, client_ip):
    await away_from_window_edge()
    settings = gateway_settings(tmp_path, rate_limit_per_minute=5)
    app = gateway_over(settings, {"booking": fake_service("booking")}, redis=redis)
    try:
        async with client_for(app, client_ip=client_ip) as client:
            await client.get("/api/v1/bookings")
            await client.get("/api/v1/bookings")
        keys = [key async for key in redis.scan_iter(match=f"kilat:ratelimit:*:{client_ip}")]
        assert len(keys) == 1
        assert int(await redis.get(keys[0])) == 2
        assert 0 < await redis.ttl(keys[0]) <= 61
    finally:
        await forget(redis, client_ip)


async def test_readiness_reports_redis(tmp_path, redis):
    app = gateway_over(gateway_settings(tmp_path), {"booking": fake_service("booking")},
                       redis=redis)
    async with LifespanManager(app), client_for(app) as client:
        response = await client.get("/readiness")
    assert response.status_code == 200
    assert response.json()["checks"] == {"gateway": "ready", "redis": "ready"}
