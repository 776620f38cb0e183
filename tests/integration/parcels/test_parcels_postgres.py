"""Parcels on PostgreSQL (and NATS for two instances): one winner among concurrent claimers,
partitioned streams with partitions made ahead and pruned, retention, row-level security."""

import asyncio
import json
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import httpx
import redis.asyncio as aioredis
from sqlalchemy import text
from websockets.asyncio.client import connect

from kilat.platform.db import drop_database
from kilat.platform.events.nats import NatsBus
from kilat.platform.models import utcnow
from kilat.platform.runtime import Infrastructure, ServiceRuntime, create_service_app
from kilat.services.parcels import descriptor, partitions
from kilat.services.parcels.models import BackgroundJob
from kilat.services.parcels.repository import Jobs
from kilat.services.parcels.settings import ParcelsSettings
from tests.service.parcels.support import (
    FAST,
    KL,
    StandInPayment,
    claimed,
    listen,
    online_courier,
    paid_order,
    parcels_service,
    serve,
)
from tests.service.parcels.test_live import frame, open_session
from tests.support.harness import (
    NATS_URL,
    REDIS_URL,
    postgres_database_url,
    private_stream,
    require_postgres,
    require_redis,
    wait_for,
)
from tests.support.people import person

STREAMS = ("courier_location_events", "shipment_events", "webhook_events", "ad_impressions")


def pg_url() -> str:
    require_postgres()
    return postgres_database_url("kilat_parcels")


async def test_fifty_couriers_claim_one_shipment_on_postgres_and_one_wins(infra):
    async with parcels_service(infra, database_url=pg_url()) as (runtime, client):
        order = await paid_order(client, person(infra, "customer"))
        couriers = [await online_courier(client, infra) for _ in range(50)]
        claim = f"/api/v1/parcels/shipments/{order['shipment']['id']}/claim"
        responses = await asyncio.gather(*(client.post(claim, headers=c.headers) for c in couriers))
        assert sorted(r.status_code for r in responses) == [200] + [409] * 49
        async with runtime.database.session(write=False) as session:
            open_rows = await session.scalar(text(
                "SELECT count(*) FROM courier_assignments WHERE ended_at IS NULL"))
        assert open_rows == 1


async def test_streams_are_partitioned_made_ahead_and_pruned(infra):
    async with parcels_service(infra, database_url=pg_url()) as (runtime, client):
        async with runtime.database.session(write=False) as session:
            partitioned = set(await session.scalars(text(
                "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid")))
            keys = dict((await session.execute(text(
                "SELECT tc.table_name, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) "
                "FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu "
                "ON tc.constraint_name = kcu.constraint_name WHERE tc.constraint_type = 'PRIMARY KEY' "
                "AND tc.table_name = ANY(:names) GROUP BY tc.table_name"), {"names": list(STREAMS)})).all())
        assert partitioned == set(STREAMS)
        assert keys == {"courier_location_events": "id,recorded_at", "shipment_events": "id,occurred_at",
                        "webhook_events": "id,created_at", "ad_impressions": "id,occurred_at"}
        today = utcnow().date()
        names = await _partitions(runtime, "courier_location_events")
        for ahead in range(4):
            assert f"courier_location_events_p{today + timedelta(days=ahead):%Y%m%d}" in names
        assert f"shipment_events_p{today:%Y%m}" in await _partitions(runtime, "shipment_events")

        await claimed(client, infra, person(infra, "customer"))  # writes fixes and timeline rows
        await asyncio.sleep(0.3)
        async with runtime.database.session(write=False) as session:
            plan = "\n".join(await session.scalars(text(
                "EXPLAIN SELECT * FROM courier_location_events WHERE recorded_at >= :start "
                "AND recorded_at < :end"), {"start": _midnight(today),
                                            "end": _midnight(today + timedelta(days=1))}))
            stored = await session.scalar(text(
                f"SELECT count(*) FROM courier_location_events_p{today:%Y%m%d}"))
        assert f"courier_location_events_p{today:%Y%m%d}" in plan
        assert f"_p{today + timedelta(days=1):%Y%m%d}" not in plan and "_default" not in plan
        assert stored >= 1


async def test_maintenance_makes_partitions_ahead_and_drops_expired_telemetry(infra):
    async with parcels_service(infra, database_url=pg_url(), partitions_ahead_days=6,
                               telemetry_retention_days=2) as (runtime, _client):
        old = utcnow().date() - timedelta(days=5)
        async with runtime.database.session() as session:
            await session.execute(text(
                f"CREATE TABLE courier_location_events_p{old:%Y%m%d} PARTITION OF courier_location_events "
                f"FOR VALUES FROM ('{old}T00:00:00Z') TO ('{old + timedelta(days=1)}T00:00:00Z')"))
        jobs = runtime.context.jobs
        async with runtime.database.session() as session:
            job = await jobs.enqueue(session, "partition_maintenance", {})
        await jobs.execute(job.id)
        names = await _partitions(runtime, "courier_location_events")
        assert f"courier_location_events_p{old:%Y%m%d}" not in names
        assert f"courier_location_events_p{utcnow().date() + timedelta(days=6):%Y%m%d}" in names


async def test_customers_have_row_level_security_for_owner_and_support(infra):
    async with parcels_service(infra, database_url=pg_url()) as (runtime, client):
        alice, bob = person(infra, "customer"), person(infra, "customer")
        for who in (alice, bob):
            await client.put("/api/v1/parcels/me", headers=who.headers, json={"city": "Ipoh"})
        reader = f"parcels_reader_{uuid.uuid4().hex[:8]}"
        async with runtime.database.session() as session:
            await session.execute(text(f"CREATE ROLE {reader} NOLOGIN"))
            await session.execute(text(f"GRANT SELECT ON customers TO {reader}"))
        try:
            async with runtime.database.session() as session:
                await session.execute(text(f"SET LOCAL ROLE {reader}"))
                await session.execute(text("SELECT set_config('kilat.user_id', :id, true)"),
                                      {"id": alice.id})
                own = list(await session.scalars(text("SELECT user_id FROM customers")))
                await session.execute(text("SET LOCAL ROLE kilat_parcels_support"))
                everyone = list(await session.scalars(text("SELECT user_id FROM customers")))
            assert own == [alice.user_id] and set(everyone) == {alice.user_id, bob.user_id}
        finally:
            async with runtime.database.session() as session:
                await session.execute(text(f"DROP OWNED BY {reader}"))
                await session.execute(text(f"DROP ROLE {reader}"))


def _midnight(day) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _partitions(runtime, table: str) -> list[str]:
    async with runtime.database.session(write=False) as session:
        return await session.run_sync(lambda s: partitions.existing_partitions(s.connection(), table))


async def test_a_fix_posted_to_one_instance_reaches_a_socket_on_the_other(infra):
    url = pg_url()
    async with private_stream("parcels") as (stream, prefix), AsyncExitStack() as stack:
        def bus() -> NatsBus:
            return NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, max_attempts=3,
                           retry_base_seconds=0.05, fetch_timeout=1.0, request_timeout=2.0)

        stack.push_async_callback(drop_database, url)
        runtimes, clients = [], []
        for _ in range(2):
            instance_bus = bus()
            await instance_bus.start()
            stack.push_async_callback(instance_bus.close)
            space = Infrastructure(settings=infra.settings, bus=instance_bus,
                                   verifier=infra.verifier, issuer=infra.issuer,
                                   service_settings={"parcels": ParcelsSettings(**FAST)})
            if not runtimes:
                payment_bus = bus()
                await payment_bus.start()
                stack.push_async_callback(payment_bus.close)
                await payment_bus.subscribe("payment", ["parcels.charge_requested"],
                                            StandInPayment(space))
            runtime = ServiceRuntime(descriptor, space, database_url=url)
            await runtime.start()
            stack.push_async_callback(runtime.stop)
            runtimes.append(runtime)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(create_service_app(runtime)),
                                       base_url="http://test")
            stack.push_async_callback(client.aclose)
            clients.append(client)
        first, second = clients
        customer = person(infra, "customer")
        order, courier = await claimed(first, infra, customer)
        session = await open_session(first, customer, order)
        port = await stack.enter_async_context(serve(create_service_app(runtimes[0])))
        async with connect(f"ws://127.0.0.1:{port}{session['websocket_path']}") as ws:
            await frame(ws, "snapshot")
            await asyncio.sleep(0.2)
            response = await second.post("/api/v1/parcels/couriers/me/location",
                                         headers=courier.headers,
                                         json={"latitude": KL["latitude"], "longitude": 101.71})
            assert response.status_code == 200
            located = await frame(ws, "location", timeout=5)
            assert located["longitude"] == 101.71
            await second.post(f"/api/v1/parcels/shipments/{order['shipment']['id']}/pickup",
                              headers=courier.headers)
            assert (await frame(ws, "status", timeout=5))["status"] == "picked_up"


async def test_couriers_live_in_redis_with_their_latest_fix_cached(infra):
    require_redis()
    redis = aioredis.from_url(REDIS_URL)
    prefix = f"test{uuid.uuid4().hex[:8]}:parcels"
    infra.redis = redis
    try:
        async with parcels_service(infra, database_url=pg_url(), location_index="redis",
                                   redis_key_prefix=prefix) as (_runtime, client):
            courier = await online_courier(client, infra)
            cached = json.loads(await redis.get(f"{prefix}:courier:{courier.id}:location"))
            assert cached["latitude"] == KL["latitude"] + 0.001
            assert await redis.keys(f"{prefix}:geo*")
            offers = await listen(infra, "parcels.shipment_offered")
            await paid_order(client, person(infra, "customer"))
            await wait_for(lambda: offers.events)
            assert offers.events[0].data["courier_ids"] == [courier.id]
    finally:
        keys = await redis.keys(f"{prefix}*")
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def test_a_queued_job_runs_once_across_instances_and_a_dead_runners_job_is_taken_over(infra):
    async with parcels_service(infra, database_url=pg_url()) as (runtime, _client):
        jobs = runtime.context.jobs
        async with runtime.database.session() as session:
            job = await jobs.enqueue(session, "telemetry_rollup", {}, at=utcnow() + timedelta(hours=1))
        later = utcnow() + timedelta(hours=2)

        async def take() -> bool:
            async with runtime.database.session() as session:
                return await Jobs(session).take(job.id, later, later + timedelta(minutes=5))

        assert sorted(await asyncio.gather(*(take() for _ in range(8)))) == [False] * 7 + [True]
        assert not await take()  # running, its lock still held
        much_later = later + timedelta(minutes=10)  # the runner died; its lock expired
        async with runtime.database.session() as session:
            assert await Jobs(session).take(job.id, much_later, much_later + timedelta(minutes=5))
        async with runtime.database.session(write=False) as session:
            row = await session.get(BackgroundJob, job.id)
        assert (row.status, row.attempt) == ("running", 2)
