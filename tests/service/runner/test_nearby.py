"""Nearby search: nearest first with distances, pet eligibility, busy and ghost runners, 400s."""

import uuid

import pytest

from kilat.platform.geoindex import LivePosition
from tests.service.runner.support import KLCC, PET_DOG, offset, wait_for

LARGE_DOG = {"size": "large", "pet_types": ["dog"], "max_weight_kg": 30}


async def online_at(app, north_km: float, *crates: dict, **profile) -> str:
    """A runner that went online near KLCC, then pinged its position ``north_km`` north."""
    headers, runner = await app.online_runner(offset(KLCC, north_km - 0.01), *crates, **profile)
    app.clock.advance(5)
    ping = await app.ping(headers, offset(KLCC, north_km), speed_kmh=20)
    assert ping.json()["data"]["accepted"] is True
    return runner["user_id"]


async def test_owner_finds_exactly_the_runners_able_to_carry_a_large_dog(app):
    """The issue's journey: runners register without name or phone, go online and ping; an
    owner's search for an 18.5 kg dog (large crate holding 22.2 kg) finds only those that fit."""
    fits_far = await online_at(app, 3, LARGE_DOG)
    fits_near = await online_at(app, 1, {"size": "xlarge", "pet_types": ["dog", "cat"],
                                         "max_weight_kg": 45})
    await online_at(app, 0.5, {**LARGE_DOG, "size": "medium"})
    await online_at(app, 0.7, {**LARGE_DOG, "pet_types": ["cat"]})
    await online_at(app, 0.8, {**LARGE_DOG, "max_weight_kg": 20})
    await online_at(app, 0.2)
    found = (await app.nearby(KLCC, **PET_DOG)).json()["data"]
    assert [r["user_id"] for r in found] == [fits_near, fits_far]
    assert [r["distance_km"] for r in found] == [pytest.approx(1, abs=0.002),
                                                 pytest.approx(3, abs=0.002)]
    assert found[0]["crate_specs"][0]["size"] == "xlarge" and "phone" not in found[0]
    assert len(await app.nearby_ids(KLCC)) == 6


async def test_results_are_nearest_first_within_radius_and_limit(app):
    ids = [await online_at(app, km) for km in (4, 1, 6, 2, 3)]
    by_distance = [ids[1], ids[3], ids[4], ids[0]]
    assert await app.nearby_ids(KLCC) == by_distance
    assert await app.nearby_ids(KLCC, limit=2) == by_distance[:2]
    assert await app.nearby_ids(KLCC, radius_km=2.5) == by_distance[:2]
    assert await app.nearby_ids(KLCC, radius_km=10) == [*by_distance, ids[2]]


async def test_temperature_control_and_air_conditioning_filters(app):
    plain = await online_at(app, 1, {"size": "small", "pet_types": ["reptile", "bird"],
                                     "max_weight_kg": 5})
    heated = await online_at(app, 2, {"size": "small", "pet_types": ["reptile"], "max_weight_kg": 5,
                                      "temperature_controlled": True})
    cooled = await online_at(app, 3, air_conditioned=True)
    assert await app.nearby_ids(KLCC, pet_type="reptile", weight_kg=2) == [heated]
    assert await app.nearby_ids(KLCC, pet_type="reptile", weight_kg=2,
                                needs_temp_control="false") == [plain, heated]
    assert await app.nearby_ids(KLCC, pet_type="bird") == [plain]
    assert await app.nearby_ids(KLCC, air_conditioned="true") == [cooled]


async def test_runners_on_a_job_are_not_offered_until_the_job_ends(app):
    headers, runner = await app.online_runner(KLCC, LARGE_DOG)
    booking = str(uuid.uuid4())
    await app.emit("booking.accepted", booking_id=booking, booking_number="BK-AAAAAA",
                   owner_id=str(uuid.uuid4()), runner_id=runner["user_id"], status="accepted")

    async def listed(expected: bool):
        async def check():
            return (runner["user_id"] in await app.nearby_ids(KLCC)) is expected
        return check

    await wait_for(await listed(False))
    assert (await app.ping(headers, KLCC)).json()["data"]["accepted"] is True
    assert await app.nearby_ids(KLCC, **PET_DOG) == []
    await app.emit("booking.completed", booking_id=booking, runner_id=runner["user_id"],
                   owner_id=str(uuid.uuid4()), final_price_cents=4423)
    await wait_for(await listed(True))


async def test_index_entries_the_database_does_not_confirm_are_skipped(app):
    """Ghosts (no profile, or offline in the database) nearer than real runners make the search
    ask the index again rather than return fewer runners."""
    real = await online_at(app, 2)
    for i in range(30):
        ghost = LivePosition(str(uuid.uuid4()), *offset(KLCC, 0.01 * (i + 1)), app.clock())
        await app.live.index.add(ghost)
    assert await app.nearby_ids(KLCC, limit=1) == [real]


async def test_low_rated_runners_are_left_out_of_pet_searches(app):
    good = await online_at(app, 1, LARGE_DOG)
    poor = await online_at(app, 2, LARGE_DOG)
    for runner_id, stars in ((good, 4), (poor, 2), (poor, 3)):
        await app.emit("review.created", review_id=str(uuid.uuid4()), booking_id=str(uuid.uuid4()),
                       runner_id=runner_id, reviewer_id=str(uuid.uuid4()), rating=stars)

    async def rated():
        found = (await app.nearby(KLCC)).json()["data"]
        return [r["rating"] for r in found] == [4.0, 2.5]

    await wait_for(rated)
    assert await app.nearby_ids(KLCC, **PET_DOG) == [good]
    assert await app.nearby_ids(KLCC) == [good, poor]


MISSING = object()


BAD_SEARCHES = [
    {"latitude": 91}, {"longitude": -181}, {"latitude": 0, "longitude": 0},
    {"latitude": MISSING}, {"longitude": MISSING}, {"latitude": "north"},
    {"radius_km": 0}, {"radius_km": -1}, {"radius_km": 51}, {"limit": 0}, {"limit": 101},
    {"pet_type": "dragon"}, {"weight_kg": 0}, {"weight_kg": -3}, {"weight_kg": 501},
    {"needs_temp_control": "maybe"},
]


async def test_bad_search_parameters_are_400(app):
    await online_at(app, 1, LARGE_DOG)
    for params in BAD_SEARCHES:
        query = {"latitude": KLCC[0], "longitude": KLCC[1]} | params
        response = await app.client.get(
            "/api/v1/runners/nearby", headers=app.headers("owner"),
            params={k: v for k, v in query.items() if v is not MISSING})
        assert response.status_code == 400, params
        assert response.json()["success"] is False and response.json()["error"], params


async def test_search_needs_a_token(app):
    response = await app.client.get("/api/v1/runners/nearby",
                                    params={"latitude": KLCC[0], "longitude": KLCC[1]})
    assert response.status_code == 401


async def test_crate_changes_reach_the_next_search_at_once(app):
    headers, runner = await app.online_runner(KLCC)
    assert await app.nearby_ids(KLCC, **PET_DOG) == []
    crate = await app.add_crate(headers, **LARGE_DOG)
    assert await app.nearby_ids(KLCC, **PET_DOG) == [runner["user_id"]]
    await app.client.put(f"/api/v1/runners/me/crates/{crate['id']}", headers=headers,
                         json={"pet_types": ["cat"]})
    assert await app.nearby_ids(KLCC, **PET_DOG) == []


async def test_changes_made_by_another_process_show_within_the_cache_time(app):
    """Rows read for a search are kept ``candidate_cache_seconds`` (5 s in tests)."""
    from sqlalchemy import update

    from kilat.services.runner.models import CrateSpec

    headers, runner = await app.online_runner(KLCC, LARGE_DOG)
    assert await app.nearby_ids(KLCC, **PET_DOG) == [runner["user_id"]]
    async with app.runtime.database.session() as session:  # as another process would
        await session.execute(update(CrateSpec).values(pet_types=["cat"]))
    assert await app.nearby_ids(KLCC, **PET_DOG) == [runner["user_id"]]
    app.clock.advance(5.1)
    await app.ping(headers, KLCC)
    assert await app.nearby_ids(KLCC, **PET_DOG) == []
