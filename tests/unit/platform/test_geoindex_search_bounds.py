"""The in-memory index's nearby search stays exact and short for any query: poles, the
antimeridian, circles holding a pole, radii wider than the globe, coarse and fine grids.

"Short" is counted in cells read (the work that bounds a search's time, the same on any
machine); a two-second deadline also stops a search that runs away (the pole search used to read
about 1.3 billion cells)."""

import math
import random

import pytest

from kilat.platform.geoindex import MAX_LATITUDE, MemoryLocationIndex
from tests.service.runner.loop_guard import deadline
from tests.unit.runner.index_contract import NOW, STALE, at, brute_force

HOSTILE_QUERIES = [(-90, -180), (90, 180), (-90, 0), (90, -180), (89.999, 179.999),
                   (-89.9, -179.99), (0, 180), (0, -180), (MAX_LATITUDE, 180),
                   (-MAX_LATITUDE, -180), (85, 179.995), (-84.5, -179.995)]
RADII = [0.001, 1, 50, 600, 5000, 20_100, 1e9]


def scattered(seed: int) -> dict[str, tuple[float, float]]:
    """Members near both poles' indexable edge, on the antimeridian and around the world."""
    rng = random.Random(seed)
    points = {}
    for i in range(300):
        lat = rng.choice([rng.uniform(83, MAX_LATITUDE), rng.uniform(-MAX_LATITUDE, -83),
                          rng.uniform(-60, 60)])
        lng = rng.choice([rng.uniform(-180, 180), rng.uniform(179.9, 180),
                          rng.uniform(-180, -179.9)])
        points[f"m{i:04d}"] = (lat, lng)
    return points


@pytest.mark.parametrize("cell", [0.01, 0.3, 1.0])
async def test_hostile_queries_answer_exactly_and_quickly(cell):
    index = MemoryLocationIndex(stale_after=STALE, cell_degrees=cell)
    points = scattered(int(cell * 100))
    for member, (lat, lng) in points.items():
        await index.add(at(member, lat, lng))
    for lat, lng in HOSTILE_QUERIES:
        for radius in RADII:
            for count in (1, 20, 1000):
                with deadline(2):
                    hits = await index.nearby(lat, lng, radius, count, NOW)
                # at most the box's rows plus twice their occupied cells
                limit = math.floor(180 / cell) + 2 + 2 * len(index._cells)
                assert index.last_search_cells <= limit, (lat, lng, radius, index.last_search_cells)
                expected = brute_force(points, lat, lng, radius, count)
                assert [h.member for h in hits] == [m for m, _ in expected], (lat, lng, radius)


async def test_a_pole_search_on_a_busy_index_reads_few_cells():
    index = MemoryLocationIndex(stale_after=STALE)
    rng = random.Random(7)
    city = {f"c{i:05d}": (3.15 + rng.uniform(-0.3, 0.3), 101.7 + rng.uniform(-0.3, 0.3))
            for i in range(20_000)}
    await index.add_many(at(m, lat, lng) for m, (lat, lng) in city.items())
    for lat, lng in HOSTILE_QUERIES:
        with deadline(2):
            assert await index.nearby(lat, lng, 50, 100, NOW) == []
        assert index.last_search_cells <= 1_000, (lat, lng, index.last_search_cells)
    hits = await index.nearby(3.15, 101.7, 50, 100, NOW)
    assert index.last_search_cells <= 500
    assert [h.member for h in hits] == [m for m, _ in brute_force(city, 3.15, 101.7, 50, 100)]
