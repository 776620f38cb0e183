"""The atomic claim on PostgreSQL (row locks, the partial unique indexes) with the live index in
Redis: twenty drivers race for one request, one driver for two requests."""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis
from sqlalchemy import text

from tests.service.rides.support import rides_service
from tests.service.rides.test_concurrency import (
    one_driver_races_for_two_requests,
    twenty_drivers_race_for_one_request,
)
from tests.support.harness import REDIS_URL, postgres_database_url, require_postgres, require_redis


def _on_servers(infra):
    require_postgres()
    require_redis()
    infra.redis = aioredis.from_url(REDIS_URL)
    return {"database_url": postgres_database_url("rides"), "location_index": "redis",
            "redis_key_prefix": f"test:rides:{uuid.uuid4().hex[:10]}"}


async def test_twenty_drivers_accept_one_request_at_once_on_postgres(infra):
    options = _on_servers(infra)
    try:
        async with rides_service(infra, offer_batch=20, **options) as (runtime, client):
            await twenty_drivers_race_for_one_request(runtime, client, infra)
            await runtime.context.live.index.clear()
    finally:
        await infra.redis.aclose()


async def test_one_driver_accepts_two_requests_at_once_on_postgres(infra):
    options = _on_servers(infra)
    try:
        async with rides_service(infra, **options) as (runtime, client):
            await one_driver_races_for_two_requests(runtime, client, infra)
            async with runtime.database.session(write=False) as session:
                indexes = set((await session.execute(text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = 'ride_matches'"))).scalars())
            assert {"uq_ride_matches_active_driver", "uq_ride_matches_active_request"} <= indexes
            await runtime.context.live.index.clear()
    finally:
        await infra.redis.aclose()


async def test_the_migrations_build_the_models_schema_on_postgres(infra):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kilat.services.rides.models import metadata

    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    options = _on_servers(infra)
    try:
        async with rides_service(infra, **options) as (runtime, _client):
            async with runtime.database.engine.connect() as connection:
                assert await connection.run_sync(differences) == []
    finally:
        await infra.redis.aclose()


async def test_every_redis_key_of_the_live_index_carries_a_ttl(infra):
    options = _on_servers(infra)
    try:
        async with rides_service(infra, **options) as (runtime, client):
            from tests.service.rides.support import driver_at

            await driver_at(client, infra, 100)
            live = runtime.context.live
            await live.housekeeping()
            keys = [k async for k in infra.redis.scan_iter(f"{options['redis_key_prefix']}*")]
            assert keys
            for key in keys:
                assert 0 < await infra.redis.ttl(key) <= 86_400, key
            await live.index.clear()
    finally:
        await infra.redis.aclose()
