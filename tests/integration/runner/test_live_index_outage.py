"""The runner service on a Redis of its own that goes down, comes back empty or is flushed: pings
answer 503 with Retry-After while it is down, /readiness says so, and online runners are found
and may ping again once it is back, rebuilt from the database without going online again."""

import uuid
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from tests.integration.runner.private_redis import PrivateRedis
from tests.service.runner.support import KLCC, offset, runner_app
from tests.support.harness import embedded_infra, wait_for


@asynccontextmanager
async def runner_on(server: PrivateRedis, tmp_path, **settings):
    client = aioredis.from_url(server.url, socket_timeout=2, socket_connect_timeout=2)
    try:
        async with embedded_infra(tmp_path) as infra:
            infra.redis = client
            async with runner_app(infra, location_index="redis", redis_key_prefix="{test:geo}",
                                  **settings) as app:
                yield app, client
    finally:
        await client.aclose()


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {"success": False, "error": "location index unavailable",
                               "detail": response.json()["detail"]}


async def test_a_redis_outage_answers_503_and_the_runner_pings_on_once_it_is_back(
        private_redis, tmp_path):
    async with runner_on(private_redis, tmp_path) as (app, _client):
        headers, runner = await app.online_runner(KLCC)
        private_redis.stop()

        app.clock.advance(5)
        assert_unavailable(await app.ping(headers, offset(KLCC, 0.05)))
        assert_unavailable(await app.nearby(KLCC))
        assert_unavailable(await app.online(headers, KLCC))

        private_redis.start()  # back without its data
        app.clock.advance(5)
        pinged = await app.ping(headers, offset(KLCC, 0.1))
        assert pinged.status_code == 200, pinged.text
        assert pinged.json()["data"]["accepted"] is True
        assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_readiness_says_not_ready_while_the_live_index_is_unreachable(
        private_redis, tmp_path):
    async with runner_on(private_redis, tmp_path) as (app, _client):
        assert (await app.client.get("/readiness")).status_code == 200
        private_redis.stop()
        down = await app.client.get("/readiness")
        assert down.status_code == 503
        assert down.json()["status"] == "not_ready"
        assert down.json()["checks"]["live_index"].startswith("error")
        assert down.json()["checks"]["database"] == "ready"
        private_redis.start()
        assert (await app.client.get("/readiness")).status_code == 200


async def test_after_a_flush_online_runners_are_found_and_ping_without_going_online_again(
        private_redis, tmp_path):
    async with runner_on(private_redis, tmp_path, rebuild_check_seconds=0.05) as (app, client):
        pinging, _ = await app.online_runner(KLCC)
        _, quiet = await app.online_runner(offset(KLCC, 1))
        app.clock.advance(5)
        assert (await app.ping(pinging, offset(KLCC, 0.05))).status_code == 200

        await client.flushdb()
        assert await wait_for(lambda: _found(app, quiet["user_id"]), timeout=5)

        app.clock.advance(5)
        pinged = await app.ping(pinging, offset(KLCC, 0.1))
        assert pinged.status_code == 200, pinged.text
        assert pinged.json()["data"]["accepted"] is True


async def test_a_ping_right_after_a_flush_puts_the_runner_back(private_redis, tmp_path):
    async with runner_on(private_redis, tmp_path, rebuild_check_seconds=3600) as (app, client):
        headers, runner = await app.online_runner(KLCC)
        app.clock.advance(5)
        assert (await app.ping(headers, offset(KLCC, 0.05))).status_code == 200

        await client.flushdb()
        app.clock.advance(5)
        pinged = await app.ping(headers, offset(KLCC, 0.1))
        assert pinged.status_code == 200, pinged.text
        assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_a_runner_offline_in_the_database_is_not_brought_back(private_redis, tmp_path):
    async with runner_on(private_redis, tmp_path, rebuild_check_seconds=0.05) as (app, client):
        headers, _ = await app.register(user_id=uuid.uuid4())
        await client.flushdb()
        response = await app.ping(headers, KLCC)
        assert response.status_code == 400
        assert response.json()["error"] == "runner must be online to update location"


async def _found(app, user_id: str) -> bool:
    return user_id in await app.nearby_ids(KLCC, radius_km=5)
