"""Phone sign-in on PostgreSQL and Redis: two identity processes share the codes and the rate
limits, and races on one code are settled by the database."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from contextlib import asynccontextmanager

import httpx
import redis.asyncio as aioredis
from sqlalchemy import select

from kilat.platform.runtime import ServiceRuntime, create_service_app
from kilat.services.identity import descriptor
from kilat.services.identity.models import OtpCode
from kilat.services.identity.settings import IdentitySettings
from tests.service.identity.support import recorded_events
from tests.support.harness import (
    REDIS_URL,
    postgres_database_url,
    require_postgres,
    require_redis,
    running_service,
)

CODE_EVENT = "identity.sign_in_code_requested"


def new_number() -> str:
    return f"+62812{random.randrange(10 ** 8):08d}"


def new_client() -> dict:
    """A client address of its own, so runs never share the Redis counters."""
    octets = (random.randrange(256), random.randrange(256), random.randrange(1, 255))
    return {"X-Forwarded-For": "10.{}.{}.{}".format(*octets)}


@asynccontextmanager
async def second_process(infra, url: str):
    """Another identity process on the same database (the first one migrated and drops it)."""
    runtime = ServiceRuntime(descriptor, infra, database_url=url)
    await runtime.start(consume=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_service_app(runtime)),
                                     base_url="http://test") as client:
            yield client
    finally:
        await runtime.stop()


@asynccontextmanager
async def two_processes(infra, **settings):
    require_postgres()
    require_redis()
    redis = aioredis.from_url(REDIS_URL)
    shared = dataclasses.replace(infra, redis=redis, service_settings={
        "identity": IdentitySettings(**({"otp_resend_seconds": 0} | settings))})
    url = postgres_database_url("kilat_identity")
    try:
        async with running_service(descriptor, shared, database_url=url) as (runtime, first), \
                second_process(shared, url) as second:
            yield runtime, first, second
    finally:
        await redis.aclose()


async def code_of(runtime, phone: str) -> str:
    sent = [e for e in await recorded_events(runtime, CODE_EVENT) if e["phone"] == phone]
    return sent[-1]["code"]


async def test_a_code_sent_by_one_process_signs_in_through_the_other(infra):
    async with two_processes(infra) as (runtime, first, second):
        assert runtime.database.dialect == "postgresql"
        phone = new_number()
        sent = await first.post("/api/v1/auth/otp/request", json={"phone": phone},
                                headers=new_client())
        assert sent.status_code == 202
        signed_in = await second.post("/api/v1/auth/otp/verify", json={
            "phone": phone, "code": await code_of(runtime, phone), "role": "passenger"})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["data"]["user"]["phone"] == phone


async def test_the_per_address_limit_is_shared_by_both_processes(infra):
    async with two_processes(infra, otp_ip_limit=3) as (_, first, second):
        client = new_client()
        answers = []
        for process in (first, second, first, second):
            response = await process.post("/api/v1/auth/otp/request", json={"phone": new_number()},
                                          headers=client)
            answers.append(response.status_code)
        assert answers == [202, 202, 202, 429]


async def test_concurrent_verifies_of_one_code_sign_in_once(infra):
    async with two_processes(infra) as (runtime, first, second):
        phone = new_number()
        await first.post("/api/v1/auth/otp/request", json={"phone": phone}, headers=new_client())
        body = {"phone": phone, "code": await code_of(runtime, phone), "role": "driver"}
        responses = await asyncio.gather(*[process.post("/api/v1/auth/otp/verify", json=body)
                                           for process in (first, second) * 3])
        assert sorted(r.status_code for r in responses) == [200] + [400] * 5


async def test_concurrent_wrong_codes_never_exceed_the_attempt_cap(infra):
    async with two_processes(infra) as (runtime, first, second):
        phone = new_number()
        await first.post("/api/v1/auth/otp/request", json={"phone": phone}, headers=new_client())
        code = await code_of(runtime, phone)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        responses = await asyncio.gather(*[
            process.post("/api/v1/auth/otp/verify",
                         json={"phone": phone, "code": wrong, "role": "driver"})
            for process in (first, second) * 5])
        errors = [r.json()["error"] for r in responses]
        assert errors.count("wrong code") == 5
        assert set(errors) == {"wrong code", "too many wrong codes"}
        async with runtime.database.session(write=False) as session:
            assert (await session.scalars(select(OtpCode))).one().attempts == 5


async def test_migrated_schema_matches_the_models_on_postgres(identity_pg):
    from tests.service.identity.test_migrations import differences

    runtime, _ = identity_pg
    async with runtime.database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
