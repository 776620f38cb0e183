"""The per-client-IP limit on the embedded (in-memory) limiter."""

import redis.asyncio as aioredis

from tests.service.gateway.support import (
    away_from_window_edge,
    client_for,
    closed_port,
    fake_service,
    gateway_over,
    gateway_settings,
)


def limited_gateway(tmp_path, limit=3, redis=None):
    return gateway_over(gateway_settings(tmp_path, rate_limit_per_minute=limit),
                        {"booking": fake_service("booking")}, redis=redis)


async def test_fourth_request_in_a_minute_is_429_with_retry_after(tmp_path):
    await away_from_window_edge()
    async with client_for(limited_gateway(tmp_path)) as client:
        statuses = [(await client.get("/api/v1/bookings")).status_code for _ in range(3)]
        refused = await client.get("/api/v1/bookings")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["success"] is False
    assert refused.json()["error"] == "rate limit exceeded"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["x-frame-options"] == "DENY"


async def test_unknown_paths_count_too(tmp_path):
    await away_from_window_edge()
    async with client_for(limited_gateway(tmp_path)) as client:
        for _ in range(3):
            assert (await client.get("/scan/me")).status_code == 404
        assert (await client.get("/scan/me")).status_code == 429


async def test_health_and_docs_are_exempt(tmp_path):
    await away_from_window_edge()
    async with client_for(limited_gateway(tmp_path, limit=1)) as client:
        await client.get("/api/v1/bookings")
        for path in ("/health", "/health", "/readiness", "/metrics", "/openapi.json", "/docs"):
            assert (await client.get(path)).status_code != 429, path
        assert (await client.get("/api/v1/bookings")).status_code == 429


async def test_each_client_ip_has_its_own_budget(tmp_path):
    await away_from_window_edge()
    app = limited_gateway(tmp_path, limit=1)
    async with client_for(app, client_ip="10.0.0.1") as first, \
            client_for(app, client_ip="10.0.0.2") as second:
        assert (await first.get("/api/v1/bookings")).status_code == 200
        assert (await first.get("/api/v1/bookings")).status_code == 429
        assert (await second.get("/api/v1/bookings")).status_code == 200


async def test_limit_zero_disables_limiting(tmp_path):
    async with client_for(limited_gateway(tmp_path, limit=0)) as client:
        statuses = {(await client.get("/api/v1/bookings")).status_code for _ in range(20)}
    assert statuses == {200}


async def test_unreachable_redis_fails_open(tmp_path):
    redis = aioredis.from_url(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        async with client_for(limited_gateway(tmp_path, limit=1, redis=redis)) as client:
            statuses = [(await client.get("/api/v1/bookings")).status_code for _ in range(3)]
    finally:
        await redis.aclose()
    assert statuses == [200, 200, 200]
