"""Nearby search reads few candidates: about ``limit`` from the live index, more only when too few
of them pass the eligibility filter, and the answer is the same as filtering every runner."""

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from kilat.platform.geo import haversine_km
from kilat.platform.geoindex import Availability, LivePosition, MemoryLocationIndex
from kilat.services.runner.domain import PetNeeds, PetType
from kilat.services.runner.repository import Candidate
from kilat.services.runner.service import (
    FIRST_ROUND_SLACK,
    FILTERED_FIRST_ROUND_FACTOR,
    NearbyQuery,
    nearby_runners,
)
from kilat.services.runner.settings import RunnerSettings

NOW = 1_800_000_000.0
KLCC = (3.1579, 101.7116)
DOG_CRATE = {"size": "large", "pet_types": ["dog"], "max_weight_kg": 30.0}
CAT_CRATE = {"size": "small", "pet_types": ["cat"], "max_weight_kg": 6.0}
LARGE_DOG = PetNeeds(PetType.DOG, 18.5)


@dataclass
class City:
    """The service's view of live runners: the in-memory index and the rows it would load."""

    index: MemoryLocationIndex
    rows: dict[uuid.UUID, Candidate]
    settings: RunnerSettings = field(default_factory=RunnerSettings)
    asked: list[int] = field(default_factory=list)
    rows_read: int = 0

    async def nearby(self, latitude, longitude, radius_km, count):
        self.asked.append(count)
        return await self.index.nearby(latitude, longitude, radius_km, count, NOW)

    async def candidates(self, user_ids):
        self.rows_read += len(user_ids)
        return {u: self.rows[u] for u in user_ids if u in self.rows}


def make_row(user_id: uuid.UUID, crate: dict | None, *, busy: bool = False) -> Candidate:
    runner = {"id": uuid.uuid4(), "user_id": user_id, "full_name": "R", "vehicle_type": "car",
              "vehicle_plate": "W1", "vehicle_model": None, "air_conditioned": False,
              "session_status": "active", "rating": 4.5, "total_trips": 3,
              "completion_rate": 1.0, "created_at": datetime.now(UTC),
              "active_booking_id": uuid.uuid4() if busy else None}
    crates = [{"id": uuid.uuid4(), "ventilated": True, "temperature_controlled": False,
               "width_cm": None, "height_cm": None, "depth_cm": None} | crate] if crate else []
    return Candidate(runner, crates)


async def dense_city(count: int, dog_share: float, seed: int, *,
                     stale_share: float = 0.0, busy_row_share: float = 0.0) -> City:
    """``count`` available runners within ~3 km of KLCC; ``dog_share`` carry a large dog crate,
    ``stale_share`` stopped pinging long ago and ``busy_row_share`` have a job the index missed."""
    rng = random.Random(seed)
    index = MemoryLocationIndex(stale_after=120)
    rows = {}
    for _ in range(count):
        user_id = uuid.uuid4()
        lat, lng = KLCC[0] + rng.uniform(-0.025, 0.025), KLCC[1] + rng.uniform(-0.025, 0.025)
        seen = NOW - 600 if rng.random() < stale_share else NOW - rng.uniform(0, 60)
        await index.add(LivePosition(str(user_id), lat, lng, seen, Availability.AVAILABLE))
        crate = DOG_CRATE if rng.random() < dog_share else CAT_CRATE
        rows[user_id] = make_row(user_id, crate, busy=rng.random() < busy_row_share)
    return City(index, rows)


def brute_force(city: City, query: NearbyQuery) -> list[str]:
    """Every fresh runner in the radius whose row says free and whose crate fits, nearest first."""
    found = []
    for user_id, row in city.rows.items():
        entry = city.index._entries[str(user_id)].position
        distance = haversine_km(query.latitude, query.longitude, entry.latitude, entry.longitude)
        fits = not query.needs.filters or row.crates[0]["pet_types"] == ["dog"]
        free = entry.seen_at >= NOW - 120 and row.runner["active_booking_id"] is None
        if free and distance <= query.radius_km and fits:
            found.append((distance, str(user_id)))
    return [user_id for _, user_id in sorted(found)[:query.limit]]


def search_at(point, radius_km=5.0, limit=20, needs=PetNeeds()) -> NearbyQuery:
    return NearbyQuery(point[0], point[1], radius_km, limit, needs)


async def test_a_dense_city_reads_only_the_first_round_of_candidates():
    city = await dense_city(3000, dog_share=1.0, seed=1)
    found = await nearby_runners(city, search_at(KLCC, limit=20))
    assert [str(r.user_id) for r in found] == brute_force(city, search_at(KLCC, limit=20))
    assert city.asked == [20 + FIRST_ROUND_SLACK]
    assert city.rows_read == 20 + FIRST_ROUND_SLACK


async def test_a_pet_filter_reads_twice_the_limit_when_most_runners_fit():
    city = await dense_city(3000, dog_share=0.8, seed=2)
    query = search_at(KLCC, limit=10, needs=LARGE_DOG)
    found = await nearby_runners(city, query)
    assert [str(r.user_id) for r in found] == brute_force(city, query)
    assert city.asked == [10 * FILTERED_FIRST_ROUND_FACTOR + FIRST_ROUND_SLACK]


async def test_rare_eligibility_widens_the_search_without_reading_a_runner_twice():
    city = await dense_city(3000, dog_share=0.02, seed=3)
    query = search_at(KLCC, limit=10, needs=LARGE_DOG)
    found = await nearby_runners(city, query)
    assert [str(r.user_id) for r in found] == brute_force(city, query)
    assert len(city.asked) > 1 and city.asked == sorted(city.asked)
    assert city.rows_read == city.asked[-1]  # each round reads only the runners not yet seen


async def test_widening_stops_at_the_configured_ceiling():
    city = await dense_city(3000, dog_share=0.0, seed=4)
    city.settings = RunnerSettings(nearby_max_candidates=300)
    found = await nearby_runners(city, search_at(KLCC, limit=10, needs=LARGE_DOG))
    assert found == []
    assert city.asked[-1] == 300 and city.rows_read == 300


async def test_a_sparse_area_stops_after_one_round_when_the_index_runs_out():
    city = await dense_city(12, dog_share=0.0, seed=5)
    found = await nearby_runners(city, search_at(KLCC, limit=10, needs=LARGE_DOG))
    assert found == [] and len(city.asked) == 1


@pytest.mark.parametrize("seed", range(6))
async def test_same_answer_as_filtering_every_runner(seed):
    """Stale runners, rows that say busy, rare and common fits, small and large limits."""
    rng = random.Random(seed)
    city = await dense_city(1500, dog_share=rng.choice([0.01, 0.1, 0.6, 1.0]), seed=seed,
                            stale_share=0.3, busy_row_share=0.2)
    for _ in range(15):
        point = (KLCC[0] + rng.uniform(-0.03, 0.03), KLCC[1] + rng.uniform(-0.03, 0.03))
        needs = rng.choice([PetNeeds(), LARGE_DOG])
        query = search_at(point, rng.choice([0.3, 1, 2, 5]), rng.choice([1, 5, 20, 100]), needs)
        found = await nearby_runners(city, query)
        assert [str(r.user_id) for r in found] == brute_force(city, query)
        distances = [r.distance_km for r in found]
        assert distances == sorted(distances)
