"""Hostile coordinates on every geo route of the runner service (embedded profile): each answers
2xx or a 4xx envelope, and the event loop never stalls (a search at a pole once froze it)."""

import asyncio

import pytest

from kilat.platform.geoindex import MAX_LATITUDE
from tests.service.runner.loop_guard import deadline, loop_lag_probe
from tests.service.runner.support import KLCC

MAX_LAG_S = 0.1
EXTREMES = [(-90, -180), (90, 180), (-90, 180), (90, -180), (0, 180), (0, -180),
            (89.9999, 179.9999), (-89.9999, -179.9999), (MAX_LATITUDE, 180),
            (-MAX_LATITUDE, -180), (85.06, 0.5), (-85.06, -0.5)]


def assert_answered(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["success"] is False and body["error"], body
        assert "detail" in body, body


async def hostile_requests(app, runner: dict, polar: dict):
    """Yield one response per hostile request over the runner's geo routes."""
    for lat, lng in EXTREMES:
        for radius in (0.001, 5, app.live.settings.nearby_max_radius_km):
            yield await app.nearby((lat, lng), radius_km=radius, limit=100)
            yield await app.nearby((lat, lng), radius_km=radius, pet_type="dog", weight_kg=10)
        yield await app.client.get("/api/v1/petshops/nearby", headers=app.headers(), params={
            "latitude": lat, "longitude": lng, "radius_km": 100, "limit": 100})
        yield await app.ping(polar, (lat, lng))
        yield await app.online(runner, (lat, lng))
        yield await app.ping(runner, (lat, lng), accuracy_m=5)
        app.clock.advance(1)


async def ordinary_requests(app) -> tuple[dict, dict]:
    """Two runners online, and each route called once: the lag measured is the inputs', not a
    first call's."""
    runner, _ = await app.online_runner(KLCC, {"size": "large", "pet_types": ["dog"],
                                               "max_weight_kg": 30})
    polar, _ = await app.online_runner((MAX_LATITUDE, 179.999))
    assert await app.nearby_ids(KLCC, radius_km=5, pet_type="dog", weight_kg=10)
    shops = await app.client.get("/api/v1/petshops/nearby", headers=app.headers(),
                                 params={"latitude": KLCC[0], "longitude": KLCC[1]})
    assert shops.status_code == 200
    assert (await app.ping(runner, KLCC)).status_code == 200
    assert (await app.online(runner, KLCC)).status_code == 200
    return runner, polar


async def test_extreme_coordinates_answer_without_stalling_the_event_loop(app):
    runner, polar = await ordinary_requests(app)
    seen = 0
    async with loop_lag_probe() as worst_lag:
        requests = hostile_requests(app, runner, polar)
        while True:
            with deadline(5):
                try:
                    response = await anext(requests)
                except StopAsyncIteration:
                    break
            assert_answered(response)
            seen += 1
        await asyncio.sleep(0.03)
        lag = worst_lag()
    assert seen == len(EXTREMES) * 10
    assert lag < MAX_LAG_S, f"event loop stalled {lag * 1000:.0f} ms"


@pytest.mark.parametrize("point", [(-90, -180), (90, 0), (85.06, 101.7), (-85.0512, 0.1)])
async def test_positions_beyond_the_indexable_latitude_are_refused(app, point):
    headers, _ = await app.register()
    response = await app.online(headers, point)
    assert response.status_code == 400, response.text
    assert "85.05112878" in response.json()["detail"]
    assert (await app.me(headers))["session_status"] != "active"


async def test_a_search_from_a_pole_finds_runners_near_the_indexable_edge(app):
    _, near = await app.online_runner((MAX_LATITUDE, 0.0))
    await app.online_runner((MAX_LATITUDE - 1, 180.0))
    assert await app.nearby_ids((90, 0), radius_km=50) == []
    assert await app.nearby_ids((85.3, 0), radius_km=50) == [near["user_id"]]
