"""Runner nearby-search benchmark: latency and throughput of the whole search path.

The measured call is the service's own ``nearby_runners``, exactly what
``GET /api/v1/runners/nearby`` runs after parsing: the live location index returns the nearest
available runners, then their rows and crates (kept a few seconds per process, else one query per
round) confirm each one and the quality policy keeps the eligible. HTTP parsing and JSON rendering
are not included. The row cache is off unless ``--cache-seconds`` is given, so every search reads
its candidates from the database: the figures are the cold path.

Profiles:
  distributed  Redis GEO index + PostgreSQL/PostGIS (a throw-away database, dropped afterwards)
  embedded     in-memory grid index + SQLite (a temporary file)

N available runners are spread uniformly over Greater Kuala Lumpur (about 55 km x 55 km; 100k
runners put roughly 2,600 inside a 5 km search circle). Each runner has one crate: 60% carry a
large or extra-large dog crate, so for the "pet" scenario (an 18.5 kg dog) 60% are eligible; the
"none" scenario searches without pet filters. Every scenario asks for the nearest 20 within 5 km.

    .venv/bin/python bench/runner_nearby.py --json out.json [--runners 10000 100000] [--million]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import text  # noqa: E402

from kilat.platform.db import Database, drop_database, ensure_database, migrate  # noqa: E402
from kilat.platform.events.bus import MemoryBus  # noqa: E402
from kilat.platform.geoindex import (  # noqa: E402
    Availability,
    LivePosition,
    MemoryLocationIndex,
    RedisLocationIndex,
)
from kilat.services.runner import descriptor  # noqa: E402
from kilat.services.runner.domain import PetNeeds, PetType  # noqa: E402
from kilat.services.runner.live import LiveRunners  # noqa: E402
from kilat.services.runner.models import CrateSpec, Runner  # noqa: E402
from kilat.services.runner.service import NearbyQuery, nearby_runners  # noqa: E402
from kilat.services.runner.settings import RunnerSettings  # noqa: E402

POSTGRES_URL = os.environ.get("KILAT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("KILAT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
AREA = (2.90, 3.40, 101.45, 101.95)  # lat min, lat max, lng min, lng max
QUERY_AREA = (3.00, 3.30, 101.55, 101.85)
COPY_BATCH = 50_000
CRATE_MIX = [("xlarge", ["dog"], 60.0), ("large", ["dog", "cat"], 30.0), ("large", ["dog"], 35.0),
             ("medium", ["dog", "cat"], 15.0), ("small", ["cat", "rabbit"], 6.0)]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def runner_rows(count: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    runners, crates = [], []
    for i in range(count):
        runner_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        size, pets, max_kg = CRATE_MIX[i % len(CRATE_MIX)]
        runners.append({
            "id": runner_id, "user_id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "full_name": f"Runner {i}", "vehicle_type": "car", "vehicle_plate": f"B{i}",
            "air_conditioned": i % 2 == 0, "session_status": "active",
            "current_lat": rng.uniform(AREA[0], AREA[1]),
            "current_lng": rng.uniform(AREA[2], AREA[3]), "location_updated_at": now,
            "rating": round(rng.uniform(3.2, 5.0), 2), "total_trips": rng.randint(0, 400),
            "completion_rate": 0.97, "version": 1, "created_at": now, "updated_at": now,
        })
        crates.append({
            "id": uuid.UUID(int=rng.getrandbits(128), version=4), "runner_id": runner_id,
            "size": size, "pet_types": pets, "max_weight_kg": max_kg, "ventilated": True,
            "temperature_controlled": False, "created_at": now, "updated_at": now,
        })
    return runners, crates


async def load_database(database: Database, runners: list[dict], crates: list[dict]) -> None:
    tables = ((Runner.__table__, runners), (CrateSpec.__table__, crates))
    if database.is_sqlite:
        async with database.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.execute("BEGIN")  # the kernel's SQLite connections autocommit otherwise
            for table, rows in tables:
                columns = list(rows[0])
                convert = [table.c[name].type.bind_processor(database.engine.dialect)
                           for name in columns]
                records = [tuple(f(v) if f else v for f, v in zip(convert, row.values(),
                                                                   strict=True)) for row in rows]
                marks = ", ".join("?" * len(columns))
                await raw.executemany(
                    f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", records)
            await raw.execute("COMMIT")
    else:
        async with database.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            for table, rows in tables:
                columns = list(rows[0])
                records = [tuple(json.dumps(v) if isinstance(v, list) else v for v in row.values())
                           for row in rows]
                for start in range(0, len(records), COPY_BATCH):  # each within the 30 s timeout
                    await raw.copy_records_to_table(
                        table.name, records=records[start:start + COPY_BATCH], columns=columns)
    async with database.engine.connect() as conn:  # planner statistics, as a live table has
        await conn.execute(text("ANALYZE"))
        await conn.commit()


async def load_index(index, runners: list[dict], now: float) -> None:
    await index.add_many(LivePosition(str(r["user_id"]), r["current_lat"], r["current_lng"], now,
                                      Availability.AVAILABLE, {"profile_id": str(r["id"])})
                         for r in runners)


def queries(count: int, seed: int, pet: bool) -> list[NearbyQuery]:
    rng = random.Random(seed)
    needs = PetNeeds(PetType.DOG, 18.5) if pet else PetNeeds()
    return [NearbyQuery(rng.uniform(QUERY_AREA[0], QUERY_AREA[1]),
                        rng.uniform(QUERY_AREA[2], QUERY_AREA[3]), 5.0, 20, needs)
            for _ in range(count)]


async def search(database: Database, live: LiveRunners, query: NearbyQuery) -> int:
    return len(await nearby_runners(live, query))


async def measure(database: Database, live: LiveRunners, args, pet: bool) -> dict:
    plan = queries(args.queries + args.warmup, args.seed + (7 if pet else 3), pet)
    for query in plan[:args.warmup]:
        await search(database, live, query)
    latencies, found, errors = [], [], 0
    for query in plan[args.warmup:]:
        started = time.perf_counter()
        try:
            found.append(await search(database, live, query))
        except Exception:
            errors += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    throughput, t_errors = await concurrent_throughput(database, live, plan, args)
    return {"p50_ms": round(percentile(latencies, 50), 3), "p95_ms": round(percentile(latencies, 95), 3),
            "p99_ms": round(percentile(latencies, 99), 3),
            "mean_ms": round(statistics.fmean(latencies), 3),
            "throughput_per_s": round(throughput, 1), "mean_results": round(statistics.fmean(found), 1),
            "errors": errors + t_errors}


async def concurrent_throughput(database, live, plan, args) -> tuple[float, int]:
    """Searches per second with ``--concurrency`` searches in flight in this one process."""
    deadline = time.perf_counter() + args.seconds
    done = errors = 0

    async def worker(offset: int) -> None:
        nonlocal done, errors
        i = offset
        while time.perf_counter() < deadline:
            try:
                await search(database, live, plan[i % len(plan)])
                done += 1
            except Exception:
                errors += 1
            i += args.concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(args.concurrency)))
    return done / (time.perf_counter() - started), errors


async def run_profile(profile: str, runners: list[dict], crates: list[dict], args) -> list[dict]:
    settings = RunnerSettings(stale_after_seconds=3600, nearby_max_candidates=2000,
                              candidate_cache_seconds=args.cache_seconds)
    tmp = tempfile.TemporaryDirectory()
    redis = None
    if profile == "distributed":
        import redis.asyncio as aioredis

        url = f"{POSTGRES_URL}/kilat_bench_runner_{uuid.uuid4().hex[:8]}"
        redis = aioredis.from_url(REDIS_URL, socket_timeout=60)  # a million-member load
        index = RedisLocationIndex(redis, stale_after=settings.stale_after_seconds,
                                   prefix=f"kilat:bench:runner:{uuid.uuid4().hex[:8]}")
    else:
        url = f"sqlite+aiosqlite:///{Path(tmp.name) / 'runner.db'}"
        index = MemoryLocationIndex(stale_after=settings.stale_after_seconds)
    database = Database(url, service="runner", pool_size=args.concurrency)
    try:
        await ensure_database(url, extensions=descriptor.extensions)
        await migrate(database, descriptor.migrations_dir)
        count = len(runners)
        started = time.perf_counter()
        await asyncio.gather(load_database(database, runners, crates),
                             load_index(index, runners, time.time()))
        loaded_s = time.perf_counter() - started
        live = LiveRunners(settings, index, database, MemoryBus())
        results = []
        for pet in (False, True):
            figures = await measure(database, live, args, pet)
            results.append({"scenario": "nearby", "profile": profile, "runners": count,
                            "filter": "pet" if pet else "none", "radius_km": 5, "limit": 20,
                            "queries": args.queries, "concurrency": args.concurrency,
                            "cache_seconds": args.cache_seconds,
                            **figures, "load_s": round(loaded_s, 1),
                            "load_average_1m": round(os.getloadavg()[0], 2)})
        return results
    finally:
        await cleanup(index, redis, database, url)
        tmp.cleanup()


async def cleanup(index, redis, database: Database, url: str) -> None:
    """Each step on its own, so a failing one leaves nothing else behind."""
    steps = [database.dispose(), drop_database(url)]
    if isinstance(index, RedisLocationIndex):
        steps.insert(0, index.clear())
    if redis is not None:
        steps.append(redis.aclose())
    for step in steps:
        try:
            await step
        except Exception as exc:
            print(f"cleanup step failed: {type(exc).__name__}: {exc}", file=sys.stderr)


async def main(args) -> list[dict]:
    sizes = list(args.runners) + ([1_000_000] if args.million else [])
    results = []
    for count in sizes:
        runners, crates = runner_rows(count, args.seed)
        for profile in args.profiles:
            try:
                lines = await run_profile(profile, runners, crates, args)
            except Exception as exc:  # a server missing or failing: report it, go on
                lines = [{"scenario": "nearby", "profile": profile, "runners": count,
                          "errors": 1, "skipped": f"{type(exc).__name__}: {exc}"}]
            for line in lines:
                print(json.dumps(line), flush=True)
            results.extend(lines)
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--runners", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also 1,000,000 runners (slow)")
    parser.add_argument("--profiles", nargs="+", default=["distributed", "embedded"],
                        choices=["distributed", "embedded"])
    parser.add_argument("--queries", type=int, default=300, help="timed searches per scenario")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=1.5, help="throughput phase length")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-seconds", type=float, default=0.0,
                        help="keep runner rows this long per process (the service default is 5)")
    return parser.parse_args()


if __name__ == "__main__":
    import uvloop  # the loop uvicorn serves the API on

    arguments = parse_args()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        output = runner.run(main(arguments))
    if arguments.json:
        arguments.json.write_text(json.dumps(output, indent=2) + "\n")
