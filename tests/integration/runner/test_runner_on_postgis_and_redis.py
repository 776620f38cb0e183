"""The runner service on PostgreSQL + PostGIS with the Redis GEO index, compared with the embedded
adapters (SQLite + in-memory index) on the same data."""

import math
import uuid
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from kilat.services.runner.service import seed_demo_shops
from tests.service.runner.support import KLCC, PET_DOG, offset, runner_app
from tests.support.harness import postgres_database_url, require_postgres

CRATES = [
    {"size": "large", "pet_types": ["dog"], "max_weight_kg": 30},
    {"size": "medium", "pet_types": ["dog", "cat"], "max_weight_kg": 15},
    {"size": "xlarge", "pet_types": ["dog"], "max_weight_kg": 60, "temperature_controlled": True},
    {"size": "small", "pet_types": ["cat", "reptile"], "max_weight_kg": 5},
]
SEARCHES = [{}, PET_DOG, {"pet_type": "cat", "weight_kg": 4}, {"radius_km": 2, "limit": 5},
            {"pet_type": "reptile", "weight_kg": 1}, {"limit": 3, **PET_DOG}]
SHOP_SEARCHES = [{}, {"radius_km": 3}, {"radius_km": 30, "limit": 4}]


def spot(i: int) -> tuple[float, float]:
    """Positions on a spiral around KLCC; a few pairs share a distance to test tie order."""
    radius_km = 0.3 + (i // 2) * 0.45
    angle = (i // 2) * 2.4 + (math.pi if i % 2 else 0)
    return offset(KLCC, radius_km * math.cos(angle), radius_km * math.sin(angle))


@asynccontextmanager
async def setup(infra, kind: str, redis_client=None, geo_prefix=None):
    if kind == "embedded":
        async with runner_app(infra) as app:
            yield app
        return
    require_postgres()
    infra.redis = redis_client
    async with runner_app(infra, database_url=postgres_database_url("runner"),
                          location_index="redis", redis_key_prefix=geo_prefix) as app:
        try:
            yield app
        finally:
            await app.live.index.clear()


async def populate(app) -> None:
    for i in range(14):
        user_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kilat-runner-{i}")
        crates = [CRATES[i % len(CRATES)]] if i % 5 else []
        await app.online_runner(spot(i), *crates, user_id=user_id, air_conditioned=i % 3 == 0)
    async with app.runtime.database.session() as session:
        await seed_demo_shops(session)


async def answers(app) -> dict:
    result = {}
    for n, params in enumerate(SEARCHES):
        found = (await app.nearby(KLCC, **params)).json()["data"]
        result[f"runners {n}"] = [(r["user_id"], r["distance_km"]) for r in found]
    for n, params in enumerate(SHOP_SEARCHES):
        response = await app.client.get("/api/v1/petshops/nearby", headers=app.headers(),
                                        params={"latitude": KLCC[0], "longitude": KLCC[1]} | params)
        result[f"shops {n}"] = [(s["name"], s["distance_km"]) for s in response.json()["data"]]
    return result


async def test_same_nearby_answers_on_sqlite_and_postgis_with_redis(tmp_path, redis_client,
                                                                   geo_prefix):
    from tests.support.harness import embedded_infra

    results = {}
    for kind in ("embedded", "postgis+redis"):
        async with embedded_infra(tmp_path / kind) as infra, \
                setup(infra, kind, redis_client, geo_prefix) as app:
            await populate(app)
            results[kind] = await answers(app)
            if kind == "postgis+redis":
                await shop_points_follow_their_coordinates(app)
    assert results["embedded"]["runners 0"], "the scenario must find runners"
    assert results["embedded"]["shops 0"], "the scenario must find shops"
    assert results["postgis+redis"] == results["embedded"]


async def shop_points_follow_their_coordinates(app) -> None:
    """The generated geography column (GiST-indexed) that the PostGIS search uses."""
    async with app.runtime.database.session(write=False) as session:
        rows = (await session.execute(text(
            "SELECT latitude, longitude, ST_Y(location::geometry), ST_X(location::geometry) "
            "FROM pet_shops"))).all()
    assert rows and all((lat, lng) == (y, x) for lat, lng, y, x in rows)


async def test_the_issue_journey_on_the_distributed_adapters(infra, redis_client, geo_prefix):
    require_postgres()
    infra.redis = redis_client
    async with runner_app(infra, database_url=postgres_database_url("runner"),
                          location_index="redis", redis_key_prefix=geo_prefix) as app:
        fits = (await app.online_runner(offset(KLCC, 1), CRATES[0]))
        await app.online_runner(offset(KLCC, 0.5), CRATES[1])
        app.clock.advance(4)
        assert (await app.ping(fits[0], offset(KLCC, 1.2), speed_kmh=30)).json()["data"]["accepted"]
        found = (await app.nearby(KLCC, **PET_DOG)).json()["data"]
        assert [r["user_id"] for r in found] == [fits[1]["user_id"]]
        assert found[0]["distance_km"] == pytest.approx(1.2, abs=0.002)
        await app.client.post("/api/v1/runners/me/offline", headers=fits[0])
        assert (await app.nearby(KLCC, **PET_DOG)).json()["data"] == []
        assert await app.live.flush_positions() == 0  # offline dropped the pending position
        await app.live.index.clear()


async def test_pings_spread_over_two_processes_are_judged_against_the_latest(infra, redis_client,
                                                                             geo_prefix):
    """Each process remembers its own last write; the index refuses a move based on an older one,
    so the ping is judged again against what the other process stored."""
    from kilat.platform.geoindex import RedisLocationIndex
    from kilat.services.runner.live import LiveRunners
    from kilat.services.runner.schemas import LocationUpdate

    require_postgres()
    infra.redis = redis_client
    async with runner_app(infra, database_url=postgres_database_url("runner"),
                          location_index="redis", redis_key_prefix=geo_prefix) as app:
        other = LiveRunners(app.live.settings, RedisLocationIndex(
            redis_client, stale_after=app.live.settings.stale_after_seconds, prefix=geo_prefix),
            app.runtime.database, infra.bus, clock=app.clock)
        headers, runner = await app.online_runner(KLCC)
        user_id = uuid.UUID(runner["user_id"])
        app.clock.advance(10)
        assert (await app.ping(headers, offset(KLCC, 0.2), speed_kmh=40)).json()["data"]["accepted"]
        app.clock.advance(10)
        far = offset(KLCC, 0.6)
        verdict = await other.ingest(user_id, LocationUpdate(latitude=far[0], longitude=far[1],
                                                             speed_kmh=40))
        assert verdict.value == "accepted"
        app.clock.advance(2)
        # 0.2 km from this process's last write in 12 s is fine, but 0.4 km back from the other
        # process's write in 2 s (720 km/h) is not
        back = await app.ping(headers, offset(KLCC, 0.2), speed_kmh=40)
        assert back.json()["data"] == {"message": "location ignored", "accepted": False,
                                       "reason": "implausible_jump"}
        onward = await app.ping(headers, offset(KLCC, 0.62), speed_kmh=40)
        assert onward.json()["data"]["accepted"] is True
        found = (await app.nearby(KLCC)).json()["data"]
        assert found[0]["distance_km"] == pytest.approx(0.62, abs=0.002)
        await app.live.index.clear()


async def test_silent_runners_are_signed_off_on_postgres(infra, redis_client, geo_prefix):
    from kilat.services.runner.service import sign_off_silent

    require_postgres()
    infra.redis = redis_client
    async with runner_app(infra, database_url=postgres_database_url("runner"),
                          location_index="redis", redis_key_prefix=geo_prefix,
                          offline_after_seconds=900) as app:
        silent, _ = await app.online_runner(KLCC)
        pinging, _ = await app.online_runner(offset(KLCC, 1))
        for _minute in range(16):
            app.clock.advance(60)
            assert (await app.ping(pinging, offset(KLCC, 1))).status_code == 200
        assert await sign_off_silent(app.live) == 1
        assert (await app.me(silent))["session_status"] == "inactive"
        assert (await app.me(pinging))["session_status"] == "active"
        assert await sign_off_silent(app.live) == 0
        await app.live.index.clear()
