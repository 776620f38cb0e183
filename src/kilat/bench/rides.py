"""``rides``: a passenger's request to its first offers, with 10,000 drivers online.

The rides service runs in this process on the profile's adapters (SQLite and the in-memory
index, or PostgreSQL and the Redis index), its drivers spread over Jakarta (about 16 per km², so
some 50 within the 1 km radius of any pickup). Each request is a new passenger's ``POST
/api/v1/rides/requests``, which searches the live index, checks the candidates' matches and
records the first batch of offers in its own transaction: its latency is the time from request to
offers. Requests go one at a time (a closed loop), so the figures are latencies, not a queue.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from kilat.bench.platform import POSTGRES_URL, REDIS_URL, check_servers
from kilat.bench.results import Result, Target
from kilat.platform.geoindex import LivePosition
from kilat.platform.infra import build_infrastructure
from kilat.platform.runtime import ServiceRuntime, create_service_app
from kilat.platform.settings import Settings
from kilat.simulate.stats import percentile

TARGETS = [Target("p50_ms", 60.0), Target("p99_ms", 250.0)]  # measured on 2 shared cores
AREA = ((-6.30, -6.10), (106.70, 106.95))  # Jakarta, about 22 km by 28 km


def _spot(rng: random.Random) -> tuple[float, float]:
    (south, north), (west, east) = AREA
    return rng.uniform(south, north), rng.uniform(west, east)


async def run(profile: str, *, quick: bool) -> list[Result]:
    drivers, requests = (500, 40) if quick else (10_000, 400)
    if profile == "distributed":
        check_servers()
    with tempfile.TemporaryDirectory(prefix="kilat-bench-rides-") as tmp:
        figures = await measure(profile, Path(tmp), drivers, requests)
    return [Result("rides", profile, f"request to offers, {drivers:,} drivers online", figures,
                   TARGETS)]


async def measure(profile: str, data_dir: Path, drivers: int, requests: int) -> dict:
    from kilat.services.rides import descriptor
    from kilat.services.rides.settings import RidesSettings

    infra = build_infrastructure(Settings(data_dir=data_dir, log_json=True, log_level="WARNING"))
    database_url, redis = None, None
    options = {"location_index": "memory", "beacon_stale_seconds": 3600.0}
    if profile == "distributed":
        import redis.asyncio as aioredis

        redis = infra.redis = aioredis.from_url(REDIS_URL)
        database_url = f"{POSTGRES_URL}/bench_rides_{uuid.uuid4().hex[:10]}"
        options |= {"location_index": "redis",
                    "redis_key_prefix": f"bench:rides:{uuid.uuid4().hex[:10]}"}
    infra.service_settings["rides"] = RidesSettings(**options)
    await infra.bus.start()
    runtime = ServiceRuntime(descriptor, infra, database_url=database_url)
    await runtime.start()
    try:
        return await _requests(runtime, infra, drivers, requests)
    finally:
        await runtime.context.live.index.clear()
        await runtime.stop()
        await infra.bus.close()
        if database_url is not None:
            from kilat.platform.db import drop_database

            await drop_database(database_url)
        if redis is not None:
            await redis.aclose()


async def _requests(runtime: ServiceRuntime, infra, drivers: int, requests: int) -> dict:
    rng = random.Random(7)
    now = runtime.context.live.now_epoch()
    await runtime.context.live.index.add_many(
        LivePosition(str(uuid.uuid4()), *_spot(rng), now) for _ in range(drivers))
    transport = httpx.ASGITransport(app=create_service_app(runtime))
    latencies, offers, errors = [], 0, 0
    async with httpx.AsyncClient(transport=transport, base_url="http://rides") as client:
        began = time.perf_counter()
        for _ in range(requests):
            passenger = uuid.uuid4()
            token = infra.issuer.access_token(passenger, f"{passenger.hex[:8]}@bench", "passenger")
            pickup, destination = _spot(rng), _spot(rng)
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/rides/requests", headers={"Authorization": f"Bearer {token}"},
                json={"pickup": {"latitude": pickup[0], "longitude": pickup[1]},
                      "destination": {"latitude": destination[0], "longitude": destination[1]}})
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                errors += 1
        elapsed = time.perf_counter() - began
    offers = await _offers(runtime)
    return {"requests": requests, "drivers_online": drivers,
            "p50_ms": round(percentile(latencies, 50), 2),
            "p95_ms": round(percentile(latencies, 95), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "throughput_per_s": round(requests / elapsed, 1),
            "offers_per_request": round(offers / max(requests, 1), 2), "errors": errors}


async def _offers(runtime: ServiceRuntime) -> int:
    from sqlalchemy import func, select

    from kilat.services.rides.models import Offer

    async with runtime.database.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Offer)) or 0)


if __name__ == "__main__":  # python -m kilat.bench.rides [distributed]
    import json
    import sys

    chosen = sys.argv[1] if len(sys.argv) > 1 else "embedded"
    for result in asyncio.run(run(chosen, quick="--quick" in sys.argv)):
        print(json.dumps(result.as_dict()))
