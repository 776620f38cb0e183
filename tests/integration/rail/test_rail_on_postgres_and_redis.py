"""The rail service on PostgreSQL with Redis as the seat-lock fast path: the same guarantees as
the embedded profile, with real parallel transactions and one Lua script per hold."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections import Counter
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from kilat.services.rail.locks import RedisSeatLocks
from tests.service.rail.support import RAIL, rail_service
from tests.service.rail.test_database_guards import GrantEverything
from tests.support.harness import (
    REDIS_URL,
    postgres_database_url,
    require_postgres,
    require_redis,
    wait_for,
)


@asynccontextmanager
async def distributed_rail(infra, **settings):
    require_postgres()
    require_redis()
    infra.redis = aioredis.from_url(REDIS_URL)
    try:
        async with rail_service(infra, database_url=postgres_database_url("kilat_rail"),
                                **settings) as rail:
            assert isinstance(rail.runtime.context.locks, RedisSeatLocks)
            yield rail
    finally:
        await infra.redis.aclose()


async def test_a_thousand_simultaneous_holders_of_one_seat_give_exactly_one_hold(infra):
    async with distributed_rail(infra) as rail:
        journey = await rail.journey()
        seat = (await rail.seats(journey["journey_id"]))[0]["id"]
        people = [rail.passenger() for _ in range(1000)]
        answers = await asyncio.gather(*(rail.hold(p, journey["journey_id"], [seat])
                                         for p in people))
        assert Counter(a.status_code for a in answers) == {201: 1, 409: 999}
        states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
        assert states[seat] == "held"


async def test_overlapping_multi_seat_holds_never_share_a_seat_nor_hold_part(infra):
    async with distributed_rail(infra) as rail:
        journey = await rail.journey()
        pool = [s["id"] for s in await rail.seats(journey["journey_id"])][:12]
        shuffle = random.Random(11)
        wants = [shuffle.sample(pool, shuffle.randint(1, 4)) for _ in range(200)]
        answers = await asyncio.gather(*(rail.hold(rail.passenger(), journey["journey_id"], w)
                                         for w in wants))
        won = [(a.json()["data"], w) for a, w in zip(answers, wants) if a.status_code == 201]
        assert {a.status_code for a in answers} <= {201, 409} and won
        held = [seat for hold, _ in won for seat in hold["seat_ids"]]
        assert len(held) == len(set(held))
        assert all(sorted(hold["seat_ids"]) == sorted(w) for hold, w in won)
        locks = rail.runtime.context.locks
        keys = [key async for key in rail.infra.redis.scan_iter(match=f"{locks.prefix}:seat:*")]
        assert len(keys) == len(held), "a failed hold leaves no key behind"


async def test_on_postgres_alone_parallel_transactions_give_a_seat_once(infra):
    async with distributed_rail(infra) as rail:
        rail.runtime._context = dataclasses.replace(rail.runtime.context, locks=GrantEverything())
        journey = await rail.journey()
        seats = [s["id"] for s in await rail.seats(journey["journey_id"])][:3]
        wants = [[seats[0]], [seats[0], seats[1]], [seats[1], seats[2]], [seats[2]]] * 15
        answers = await asyncio.gather(*(rail.hold(rail.passenger(), journey["journey_id"], w)
                                         for w in wants))
        won = [a.json()["data"]["seat_ids"] for a in answers if a.status_code == 201]
        assert {a.status_code for a in answers} == {201, 409}
        held = [seat for seat_ids in won for seat in seat_ids]
        assert len(held) == len(set(held))


async def test_an_expired_hold_frees_its_seats_in_redis_and_postgres_alike(infra):
    async with distributed_rail(infra, hold_seconds=1, sweep_seconds=0.2) as rail:
        journey = await rail.journey()
        seats = [s["id"] for s in await rail.seats(journey["journey_id"])][:2]
        first = await rail.hold(rail.passenger(), journey["journey_id"], seats)
        assert first.status_code == 201
        locks = rail.runtime.context.locks
        keys = locks._keys(first.json()["data"]["journey_id"], seats)
        ttl = await rail.infra.redis.pttl(keys[0])
        assert 0 < ttl <= 1000, "the key lapses at the hold's deadline"

        async def freed():
            states = {s["id"]: s["state"] for s in await rail.seats(journey["journey_id"])}
            return all(states[s] == "available" for s in seats) and \
                not await rail.infra.redis.exists(*keys)

        await wait_for(freed, timeout=5)
        assert (await rail.hold(rail.passenger(), journey["journey_id"], seats)).status_code == 201


async def test_a_paid_booking_is_confirmed_and_cancelled_on_postgres(infra):
    async with distributed_rail(infra) as rail:
        ana = rail.passenger()
        before = await rail.journey()  # cached in Redis from here on
        booking = await rail.confirmed(ana, seats=2)
        assert {line["status"] for line in booking["lines"]} == {"confirmed"}
        after = await rail.journey()
        assert sum(c["available_seats"] for c in after["classes"]) == \
            sum(c["available_seats"] for c in before["classes"]) - 2, "the cached search forgot"
        cancelled = await rail.client.post(f"{RAIL}/bookings/{booking['id']}/cancel",
                                           headers=ana.headers)
        assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
        states = {s["id"]: s["state"] for s in await rail.seats(booking["journey_id"])}
        assert {states[line["seat_id"]] for line in booking["lines"]} == {"available"}
