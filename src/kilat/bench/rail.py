"""``rail``: seat-hold contention on one journey, in this process.

The rail service runs with its real database (SQLite file embedded; a fresh PostgreSQL database
and Redis as the seat-lock fast path distributed) behind its ASGI app, driven without a network
hop, on the demo timetable. ``contenders`` passengers (1000) race for one seat of a journey, round
after round on the next seat; every seat must get exactly one hold (the rest 409). Reported: hold
requests/s and their latency percentiles.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from kilat.bench.platform import POSTGRES_URL, REDIS_URL, BenchError, check_servers
from kilat.bench.results import Result, Target
from kilat.platform.auth import (
    TokenIssuer,
    TokenVerifier,
    ensure_keypair,
    load_private_key,
    load_public_key,
)
from kilat.platform.events.bus import MemoryBus
from kilat.platform.runtime import Infrastructure, ServiceRuntime, create_service_app
from kilat.platform.settings import Settings

RAIL = "/api/v1/rail"


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 2)


async def run(profile: str, *, quick: bool = False) -> list[Result]:
    contenders, rounds = (100, 2) if quick else (1000, 5)
    with tempfile.TemporaryDirectory(prefix="kilat-bench-rail-") as tmp:
        async with _service(profile, Path(tmp)) as (client, issuer):
            return [await _race(client, issuer, profile, contenders, rounds)]


class _service:
    def __init__(self, profile: str, tmp: Path) -> None:
        self.profile, self.tmp = profile, tmp

    async def __aenter__(self):
        from kilat.services.rail import descriptor
        from kilat.services.rail.demo import seed_timetable
        from kilat.services.rail.settings import RailSettings

        settings = Settings(data_dir=self.tmp, rate_limit_per_minute=0, log_json=True,
                            outbox_poll_seconds=0.05)
        private, public = self.tmp / "jwt.pem", self.tmp / "jwt.pub.pem"
        ensure_keypair(private, public)
        issuer = TokenIssuer(load_private_key(private), issuer=settings.jwt_issuer,
                             access_ttl=settings.access_token_ttl_seconds,
                             refresh_ttl=settings.refresh_token_ttl_seconds)
        redis, url = None, None
        if self.profile == "distributed":
            check_servers()
            import redis.asyncio as aioredis

            redis = aioredis.from_url(REDIS_URL)
            url = f"{POSTGRES_URL}/kilat_bench_rail_{uuid.uuid4().hex[:8]}"
        self.bus = MemoryBus()
        rail = RailSettings(redis_key_prefix=f"bench{uuid.uuid4().hex[:6]}")
        infra = Infrastructure(settings=settings, bus=self.bus, redis=redis, issuer=issuer,
                               verifier=TokenVerifier(load_public_key(public),
                                                      issuer=settings.jwt_issuer),
                               service_settings={"rail": rail})
        self.url, self.redis = url, redis
        self.runtime = ServiceRuntime(descriptor, infra, database_url=url)
        await self.runtime.start()
        async with self.runtime.database.session() as session:
            await seed_timetable(session, days=2)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(create_service_app(self.runtime)),
            base_url="http://bench", timeout=120)
        return self.client, issuer

    async def __aexit__(self, *exc) -> None:
        from kilat.platform.db import drop_database

        await self.client.aclose()
        await self.runtime.stop()
        await self.bus.close()
        if self.url:
            await drop_database(self.url)
        if self.redis is not None:
            await self.redis.aclose()


async def _check(response: httpx.Response) -> dict:
    if response.status_code != 200:
        raise BenchError(f"{response.request.url.path}: {response.status_code} "
                         f"{response.text[:300]}")
    return response.json()["data"]


async def _journey(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    from kilat.services.rail.timetable import DHAKA

    day = (datetime.now(DHAKA) + timedelta(days=1)).date()
    options = await _check(await client.get(f"{RAIL}/journeys/search",
                                            params={"from": "DHK", "to": "CTG", "date": str(day)}))
    journey = options[0]["journey_id"]
    seat_map = await _check(await client.get(f"{RAIL}/journeys/{journey}/seats"))
    return journey, [s["id"] for coach in seat_map["coaches"] for s in coach["seats"]]


async def _race(client, issuer: TokenIssuer, profile: str, contenders: int, rounds: int) -> Result:
    journey, seats = await _journey(client)
    people = []
    for _ in range(contenders):
        user = uuid.uuid4()
        token = issuer.access_token(user, f"p-{user.hex[:8]}@bench.example", "passenger")
        people.append({"Authorization": f"Bearer {token}"})
    latencies: list[float] = []
    errors, holds = 0, 0
    began = time.perf_counter()
    for seat in seats[:rounds]:
        async def hold(headers: dict[str, str]) -> int:
            start = time.perf_counter()
            response = await client.post(f"{RAIL}/holds", headers=headers,
                                         json={"journey_id": journey, "seat_ids": [seat]})
            latencies.append(time.perf_counter() - start)
            return response.status_code

        codes = await asyncio.gather(*(hold(h) for h in people))
        holds += codes.count(201)
        errors += sum(1 for code in codes if code not in (201, 409))
        if codes.count(201) != 1:
            raise BenchError(f"seat {seat} had {codes.count(201)} holds")
    elapsed = time.perf_counter() - began
    figures = {"contenders": contenders, "rounds": rounds, "holds": holds, "errors": errors,
               "holds_per_s": round(len(latencies) / elapsed, 1),
               "p50_ms": _percentile(latencies, 0.5), "p99_ms": _percentile(latencies, 0.99)}
    return Result("rail", profile, f"seat-hold race: {contenders} passengers x {rounds} seats",
                  figures, [Target("errors", 0)])
