"""Buffered fixes in one request: judged by their own times, oldest first, one index write."""

from datetime import UTC, datetime, timedelta

from tests.service.runner.support import KLCC, offset


def _at(app, seconds_ago: float) -> str:
    moment = datetime.fromtimestamp(app.clock.now, UTC) - timedelta(seconds=seconds_ago)
    return moment.isoformat().replace("+00:00", "Z")


async def _send(app, headers, fixes):
    return await app.client.post("/api/v1/runners/me/locations", headers=headers,
                                 json={"fixes": fixes})


def _fix(app, point, seconds_ago, **extra):
    return {"latitude": point[0], "longitude": point[1], "timestamp": _at(app, seconds_ago)} | extra


async def test_a_batch_is_judged_in_time_order_and_moves_the_runner_once(app):
    published = await app.capture_pings()
    headers, runner = await app.online_runner(KLCC)
    app.clock.advance(60)
    path = [offset(KLCC, north_km=0.1 * step) for step in range(1, 6)]  # 100 m every 10 s
    fixes = [_fix(app, point, 50 - 10 * step) for step, point in enumerate(path)]
    fixes.reverse()  # any order: the server sorts by the fix time
    jump = _fix(app, offset(KLCC, north_km=50), 5)  # 50 km in 5 s after the last one
    response = await _send(app, headers, [*fixes, jump])
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["accepted"], data["ignored"]) == (5, 1)
    assert data["results"][-1] == {"accepted": False, "reason": "implausible_jump"}
    assert all(result == {"accepted": True, "reason": None} for result in data["results"][:5])
    # every accepted move is published, oldest first, with the time it was taken
    assert [(p["latitude"], p["longitude"]) for p in published] == path
    assert [p["runner_id"] for p in published] == [runner["user_id"]] * 5
    found = (await app.nearby(path[-1])).json()["data"]
    assert found[0]["distance_km"] == 0.0


async def test_a_batch_standing_still_keeps_the_runner_alive_without_publishing(app):
    published = await app.capture_pings()
    headers, _ = await app.online_runner(KLCC)
    app.clock.advance(30)
    response = await _send(app, headers, [_fix(app, KLCC, 20), _fix(app, KLCC, 10)])
    assert response.json()["data"]["results"] == [{"accepted": True, "reason": "stationary"}] * 2
    assert published == []


async def test_bad_batches_are_refused_and_change_nothing(app):
    published = await app.capture_pings()
    headers, _ = await app.online_runner(KLCC)
    app.clock.advance(30)
    moved = offset(KLCC, north_km=0.1)
    too_many = [_fix(app, moved, 20)] * 51
    no_time = [{"latitude": moved[0], "longitude": moved[1]}]
    future = [_fix(app, moved, -3600)]
    impossible = [_fix(app, (95.0, 10.0), 10)]
    ancient = [{"latitude": moved[0], "longitude": moved[1], "timestamp": "0001-01-01T00:00:00Z"}]
    for fixes, status in ((too_many, 400), (no_time, 400), ([], 400), (future, 400),
                          (impossible, 400)):
        response = await _send(app, headers, fixes)
        assert response.status_code == status, (fixes[:1], response.text)
    response = await _send(app, headers, ancient)
    assert response.json()["data"]["results"] == [{"accepted": False, "reason": "out_of_window"}]
    assert published == []
    assert (await app.nearby(KLCC)).json()["data"][0]["distance_km"] == 0.0


async def test_a_batch_needs_an_online_runner(app):
    headers, _ = await app.register()
    response = await _send(app, headers, [_fix(app, KLCC, 5)])
    assert response.status_code == 400
    owner = await _send(app, app.headers("owner"), [_fix(app, KLCC, 5)])
    assert owner.status_code == 403
