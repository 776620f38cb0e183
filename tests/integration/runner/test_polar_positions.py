"""Positions near the poles on real Redis GEO: one rule with the embedded profile. A runner's
position beyond ±MAX_LATITUDE is refused with 400 (Redis GEO cannot hold it); a search may start
anywhere, the poles included, and finds exactly what the in-memory index finds."""

import random

import pytest

from kilat.platform.errors import BadRequest
from kilat.platform.geoindex import MAX_LATITUDE, MemoryLocationIndex, RedisLocationIndex
from tests.service.runner.support import runner_app
from tests.unit.runner.index_contract import NOW, STALE, at, brute_force

BEYOND = [(85.06, 10.0), (-85.0512, -10.0), (90.0, 0.0), (-90.0, 180.0)]
POLAR_QUERIES = [(90, 0), (-90, -180), (90, 180), (-89.5, 33.3), (86, -120), (85.2, 179.99),
                 (-80, 0), (60, -179.99), (0.5, 180), (0.5, -179.999)]


@pytest.fixture
async def redis_index(redis_client, geo_prefix):
    index = RedisLocationIndex(redis_client, stale_after=STALE, prefix=geo_prefix)
    try:
        yield index
    finally:
        await index.clear()


def edge_points(seed: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(seed)
    points = {f"n{i:03d}": (rng.uniform(83.5, MAX_LATITUDE), rng.uniform(-180, 180))
              for i in range(120)}
    points |= {f"s{i:03d}": (rng.uniform(-MAX_LATITUDE, -83.5), rng.uniform(-180, 180))
               for i in range(120)}
    points["edge"] = (MAX_LATITUDE, 180.0)
    points |= {"meridian-60": (60.0, 180.0), "meridian-0": (0.5, -180.0),
               "meridian-s": (-81.0, 180.0)}
    return points


@pytest.mark.parametrize("point", BEYOND)
async def test_both_indexes_refuse_a_position_beyond_max_latitude(redis_index, point):
    memory = MemoryLocationIndex(stale_after=STALE)
    for index in (memory, redis_index):
        with pytest.raises(BadRequest):
            await index.add(at("r1", *point))
        await index.add(at("r2", 3.15, 101.7))
        with pytest.raises(BadRequest):
            await index.move("r2", *point, NOW + 1)
        with pytest.raises(BadRequest):
            await index.restore(at("r3", *point))
        assert await index.get("r1", NOW) is None
        assert (await index.get("r2", NOW + 1)).latitude == 3.15


async def test_polar_searches_answer_as_the_memory_index_does(redis_index):
    points = edge_points(5)
    memory = MemoryLocationIndex(stale_after=STALE)
    for index in (memory, redis_index):
        await index.add_many(at(m, lat, lng) for m, (lat, lng) in points.items())
    for lat, lng in POLAR_QUERIES:
        for radius in (1, 50, 400, 700, 2000):
            for count in (1, 5, 300):
                expected = [m for m, _ in brute_force(points, lat, lng, radius, count)]
                got_memory = [h.member for h in await memory.nearby(lat, lng, radius, count, NOW)]
                got_redis = [h.member for h in
                             await redis_index.nearby(lat, lng, radius, count, NOW)]
                assert got_memory == expected, (lat, lng, radius, count)
                assert got_redis == expected, (lat, lng, radius, count)


async def test_the_runner_service_on_redis_refuses_polar_positions_and_searches_the_poles(
        infra, redis_client, geo_prefix):
    infra.redis = redis_client
    async with runner_app(infra, location_index="redis", redis_key_prefix=geo_prefix) as app:
        try:
            headers, _ = await app.register()
            refused = await app.online(headers, (89.0, 10.0))
            assert refused.status_code == 400, refused.text
            assert "85.05112878" in refused.json()["detail"]
            _, edge = await app.online_runner((MAX_LATITUDE, 0.0))
            for point in [(-90, -180), (90, 180), (90, 0)]:
                assert await app.nearby_ids(point, radius_km=50) == []
            assert await app.nearby_ids((85.3, 0.0), radius_km=50) == [edge["user_id"]]
            assert (await app.ping(headers, (89.0, 10.0))).status_code == 400
        finally:
            await app.live.index.clear()
