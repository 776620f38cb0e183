"""The per-client-IP limit on the embedded (in-memory) limiter."""

import asyncio
import contextlib

import httpx
import redis.asyncio as aioredis
import uvicorn

from kilat.cli import server_config
from tests.service.gateway.support import (
    away_from_window_edge,
    client_for,
    closed_port,
    fake_service,
    gateway_over,
    gateway_settings,
)
from tests.support.harness import free_port


def limited_gateway(tmp_path, limit=3, redis=None, **settings):
    return gateway_over(gateway_settings(tmp_path, rate_limit_per_minute=limit, **settings),
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


async def test_a_rotating_forwarded_for_does_not_buy_more_requests(tmp_path):
    await away_from_window_edge()
    async with client_for(limited_gateway(tmp_path, limit=1)) as client:
        statuses = [(await client.get("/api/v1/bookings",
                                      headers={"X-Forwarded-For": f"198.51.100.{n}"})).status_code
                    for n in range(3)]
    assert statuses == [200, 429, 429]


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(tmp_path):
    await away_from_window_edge()
    app = limited_gateway(tmp_path, limit=1, trusted_proxies=["10.0.0.0/8"])
    async with client_for(app, client_ip="10.0.0.2") as proxy:
        def through_proxy(chain: str):
            return proxy.get("/api/v1/bookings", headers={"X-Forwarded-For": chain})

        assert (await through_proxy("198.51.100.1")).status_code == 200
        assert (await through_proxy("198.51.100.2")).status_code == 200
        assert (await through_proxy("198.51.100.1")).status_code == 429
        # what the client wrote left of its own address is not believed
        assert (await through_proxy("203.0.113.50, 198.51.100.1")).status_code == 429


async def test_the_served_gateway_does_not_let_uvicorn_believe_forwarded_for(tmp_path):
    """`kilat up` / `kilat serve` start uvicorn with this config; its default would take the
    client address from X-Forwarded-For sent from loopback, before the gateway sees it."""
    await away_from_window_edge()
    port = free_port()
    server = uvicorn.Server(server_config(limited_gateway(tmp_path, limit=1), "127.0.0.1", port))
    server.capture_signals = contextlib.nullcontext  # the test runner owns the signals
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done()
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            statuses = [(await client.get("/api/v1/bookings", headers={
                "X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(3)]
    finally:
        server.should_exit = True
        await task
    assert statuses == [200, 429, 429]
