"""The distributed profile with two rides processes on NATS, one PostgreSQL database and one
Redis index: a frame committed on one instance reaches a socket on the other, and both deadline
workers share the due requests without handling one twice."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import redis.asyncio as aioredis
from sqlalchemy import select

from kilat.platform.db import drop_database
from kilat.platform.events.nats import NatsBus
from kilat.platform.runtime import Infrastructure, ServiceRuntime, create_service_app
from kilat.services.rides import descriptor
from kilat.services.rides.matching import process_due
from kilat.services.rides.models import Offer
from tests.service.rides.support import (
    ask_ride,
    driver_at,
    offers_of,
    quick_settings,
    recorded,
    serve,
    socket_of,
)
from tests.support.harness import (
    NATS_URL,
    REDIS_URL,
    postgres_database_url,
    private_stream,
    require_postgres,
    require_redis,
)
from tests.support.people import person


async def instance(stack: AsyncExitStack, infra, stream: str, prefix: str, url: str,
                   key_prefix: str) -> tuple[ServiceRuntime, httpx.AsyncClient]:
    bus = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, max_attempts=3,
                  retry_base_seconds=0.05, fetch_timeout=1.0, request_timeout=2.0)
    await bus.start()
    stack.push_async_callback(bus.close)
    redis = aioredis.from_url(REDIS_URL)
    stack.push_async_callback(redis.aclose)
    own = Infrastructure(settings=infra.settings, bus=bus, verifier=infra.verifier,
                         issuer=infra.issuer, redis=redis)
    own.service_settings["rides"] = quick_settings(location_index="redis",
                                                   redis_key_prefix=key_prefix)
    runtime = ServiceRuntime(descriptor, own, database_url=url)
    await runtime.start()
    stack.push_async_callback(runtime.stop)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_service_app(runtime)),
                               base_url="http://rides")
    stack.push_async_callback(client.aclose)
    return runtime, client


async def test_frames_cross_instances_and_deadlines_are_shared(infra):
    require_postgres()
    require_redis()
    url = postgres_database_url("rides")
    key_prefix = f"test:rides:{uuid.uuid4().hex[:10]}"
    async with private_stream("rides") as (stream, prefix), AsyncExitStack() as stack:
        stack.push_async_callback(drop_database, url)
        first, one = await instance(stack, infra, stream, prefix, url, key_prefix)
        second, two = await instance(stack, infra, stream, prefix, url, key_prefix)
        stack.push_async_callback(first.context.live.index.clear)
        base_two = await stack.enter_async_context(serve(second))

        driver = await driver_at(one, infra, 200)
        spare = await driver_at(one, infra, 400)
        async with socket_of(base_two, driver) as socket:
            request = await ask_ride(one, person(infra, "passenger"))
            offer = (await socket.next("offer", timeout=5))["data"]
            assert offer["request_id"] == request["id"]

        others = [await ask_ride(one, person(infra, "passenger")) for _ in range(5)]
        later = datetime.now(UTC) + timedelta(seconds=31)
        handled = await asyncio.gather(process_due(first, later), process_due(second, later))
        assert sum(handled) == 1 + len(others)  # each due request handled by one instance
        async with first.database.session(write=False) as session:
            statuses = Counter((await session.scalars(select(Offer.status))).all())
        assert statuses == {"expired": 12}  # both drivers' offers of the six requests lapsed
        assert await offers_of(two, spare) == []
        assert await process_due(second, later) == 0  # their next deadlines lie ahead
        offered = await recorded(first, "rides.offered")
        pairs = [(e["data"]["request_id"], e["data"]["driver_id"]) for e in offered]
        assert len(pairs) == len(set(pairs))
