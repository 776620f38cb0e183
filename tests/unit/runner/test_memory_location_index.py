"""The in-memory location index (embedded profile) keeps the LocationIndex contract."""

import pytest

from kilat.platform.geoindex import MemoryLocationIndex
from tests.unit.runner.index_contract import (
    CONTRACT,
    NOW,
    STALE,
    at,
    brute_force,
    nearby_matches_brute_force,
)


def memory_index(cell: float = 0.01) -> MemoryLocationIndex:
    return MemoryLocationIndex(stale_after=STALE, cell_degrees=cell)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda c: c.__name__)
async def test_contract(check):
    await check(memory_index())


@pytest.mark.parametrize(("seed", "center", "cell"), [
    (1, (3.15, 101.70), 0.01), (2, (3.15, 101.70), 0.2), (3, (-33.9, 151.2), 0.005),
    (4, (78.2, 15.6), 0.01), (5, (0.05, 179.95), 0.01), (6, (-0.1, -179.9), 0.05),
])
async def test_nearby_is_exactly_the_nearest_within_the_radius(seed, center, cell):
    await nearby_matches_brute_force(memory_index(cell), seed, center)


async def test_moving_between_cells_updates_the_search():
    index = memory_index()
    await index.add(at("r1", 3.15, 101.70))
    await index.move("r1", 3.30, 101.90, NOW + 1)
    assert await index.nearby(3.15, 101.70, 1, 10, NOW + 1) == []
    assert [h.member for h in await index.nearby(3.30, 101.90, 1, 10, NOW + 1)] == ["r1"]


async def test_purge_forgets_old_removals_and_stale_members():
    index = memory_index()
    await index.add(at("old", 3.15, 101.70, seen=NOW - 500))
    await index.remove("gone", NOW - 500)
    await index.purge_stale(NOW)
    assert len(index) == 0
    assert await index.restore(at("gone", 3.15, 101.70, seen=NOW)) is not None


async def test_count_zero_and_empty_index_find_nothing():
    index = memory_index()
    assert await index.nearby(3.15, 101.70, 5, 10, NOW) == []
    await index.add(at("r1", 3.15, 101.70))
    assert await index.nearby(3.15, 101.70, 5, 0, NOW) == []


async def test_a_member_exactly_on_the_radius_is_included():
    index = memory_index()
    await index.add(at("edge", 3.15 + 0.01, 101.70))
    radius = brute_force({"edge": (3.16, 101.70)}, 3.15, 101.70, 10, 1)[0][1]
    assert [h.member for h in await index.nearby(3.15, 101.70, radius, 5, NOW)] == ["edge"]
