"""The Redis GEO location index (distributed profile) keeps the LocationIndex contract and
answers exactly as the in-memory index does."""

import random

import pytest

from kilat.platform.geoindex import MemoryLocationIndex, RedisLocationIndex
from tests.unit.runner.index_contract import (
    CONTRACT,
    NOW,
    STALE,
    at,
    nearby_matches_brute_force,
    random_points,
)


@pytest.fixture
async def redis_index(redis_client, geo_prefix):
    index = RedisLocationIndex(redis_client, stale_after=STALE, prefix=geo_prefix)
    try:
        yield index
    finally:
        await index.clear()


@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(redis_index, check):
    await check(redis_index)


@pytest.mark.parametrize(("seed", "center"), [(11, (3.15, 101.70)), (12, (-33.9, 151.2)),
                                              (13, (0.05, 179.95))])
async def test_nearby_is_exactly_the_nearest_within_the_radius(redis_index, seed, center):
    await nearby_matches_brute_force(redis_index, seed, center)


async def test_same_answers_as_the_memory_index_for_the_same_data(redis_index):
    memory = MemoryLocationIndex(stale_after=STALE)
    points = random_points(21, 600, 3.15, 101.70, spread=0.1)
    for member, (lat, lng) in points.items():
        await memory.add(at(member, lat, lng))
        await redis_index.add(at(member, lat, lng))
    rng = random.Random(22)
    for _ in range(20):
        lat, lng = 3.15 + rng.uniform(-0.1, 0.1), 101.70 + rng.uniform(-0.1, 0.1)
        radius, count = rng.choice([1, 3, 5, 10]), rng.choice([5, 20, 100])
        assert (await redis_index.nearby(lat, lng, radius, count, NOW)
                == await memory.nearby(lat, lng, radius, count, NOW))


async def test_stale_members_crowding_the_nearest_spots_do_not_hide_fresh_ones(redis_index):
    for i in range(40):
        await redis_index.add(at(f"old{i:02d}", 3.15 + i * 1e-5, 101.70, seen=NOW - STALE - 10))
    await redis_index.add(at("fresh", 3.16, 101.70))
    hits = await redis_index.nearby(3.15, 101.70, 5, 1, NOW)
    assert [h.member for h in hits] == ["fresh"]
    assert await redis_index.purge_stale(NOW) == 0  # the search already swept them


async def test_two_processes_share_one_index(redis_client, geo_prefix):
    first = RedisLocationIndex(redis_client, stale_after=STALE, prefix=geo_prefix)
    second = RedisLocationIndex(redis_client, stale_after=STALE, prefix=geo_prefix)
    try:
        await first.add(at("r1", 3.15, 101.70))
        assert [h.member for h in await second.nearby(3.15, 101.70, 1, 5, NOW)] == ["r1"]
        await second.remove("r1", NOW)
        assert await first.move("r1", 3.15, 101.70, NOW + 1) is None
    finally:
        await first.clear()
