"""Going online and offline, GPS pings through the filter, the fast path and the flush."""

import uuid

from sqlalchemy import MetaData, event, select

from kilat.platform.events.tables import event_tables
from kilat.services.runner.models import Runner
from tests.service.runner.support import KLCC, offset, runner_app, wait_for

OUTBOX = event_tables(MetaData()).outbox


async def outbox_events(app, type_: str) -> list[dict]:
    async with app.runtime.database.session(write=False) as session:
        rows = await session.execute(select(OUTBOX.c.payload).where(OUTBOX.c.type == type_))
        return [row.payload["data"] for row in rows]


async def stored_row(app, user_id: str) -> Runner:
    async with app.runtime.database.session(write=False) as session:
        return await session.scalar(select(Runner).where(Runner.user_id == uuid.UUID(user_id)))


async def test_online_and_offline_record_events_once_per_change(app):
    headers, runner = await app.register()
    assert (await app.online(headers, KLCC)).json()["data"] == {"message": "runner is now online"}
    assert (await app.online(headers, offset(KLCC, 1))).status_code == 200
    online = await outbox_events(app, "runner.online")
    assert len(online) == 1
    assert online[0]["runner_id"] == runner["user_id"]
    assert online[0]["runner_profile_id"] == runner["id"]
    assert (online[0]["latitude"], online[0]["longitude"]) == KLCC
    response = await app.client.post("/api/v1/runners/me/offline", headers=headers)
    assert response.json()["data"] == {"message": "runner is now offline"}
    await app.client.post("/api/v1/runners/me/offline", headers=headers)
    offline = await outbox_events(app, "runner.offline")
    assert [e["runner_id"] for e in offline] == [runner["user_id"]]
    me = await app.me(headers)
    assert me["session_status"] == "inactive" and me["latitude"] is None


async def test_online_needs_a_possible_position(app):
    headers, _ = await app.register()
    for body in ({"latitude": 0, "longitude": 0}, {"latitude": 91, "longitude": 1},
                 {"latitude": 3.1}, {"latitude": "north", "longitude": 1}):
        response = await app.client.post("/api/v1/runners/me/online", json=body, headers=headers)
        assert response.status_code == 400, body
    assert (await app.me(headers))["session_status"] == "inactive"
    assert await app.nearby_ids(KLCC) == []


async def test_ping_requires_an_online_registered_runner(app):
    unregistered = await app.ping(app.headers("runner"), KLCC)
    headers, _ = await app.register()
    offline = await app.ping(headers, KLCC)
    owner = await app.ping(app.headers("owner"), KLCC)
    assert (unregistered.status_code, offline.status_code, owner.status_code) == (404, 400, 403)
    assert offline.json()["error"] == "runner must be online to update location"


async def test_accepted_ping_moves_the_runner_and_is_published_on_the_fast_path(app):
    published = await app.capture_pings()
    headers, runner = await app.online_runner(KLCC)
    app.clock.advance(4)
    moved = offset(KLCC, north_km=0.05)
    response = await app.ping(headers, moved, speed_kmh=40, heading_degrees=90, accuracy_m=8,
                              timestamp="2026-02-06T10:30:00Z")
    assert response.json()["data"] == {"message": "location updated", "accepted": True,
                                       "reason": None}
    assert published == [{
        "runner_id": runner["user_id"], "runner_profile_id": runner["id"], "booking_id": None,
        "latitude": moved[0], "longitude": moved[1], "speed_kmh": 40.0, "heading_degrees": 90.0,
        "accuracy_m": 8.0, "timestamp": "2026-02-06T10:30:00Z",
    }]
    found = (await app.nearby(moved)).json()["data"]
    assert found[0]["distance_km"] == 0.0
    assert await outbox_events(app, "runner.location_update") == []


async def test_filtered_pings_are_acknowledged_but_change_nothing(app):
    published = await app.capture_pings()
    headers, _ = await app.online_runner(KLCC)
    app.clock.advance(10)
    poor = await app.ping(headers, offset(KLCC, 0.5), accuracy_m=500)
    jump = await app.ping(headers, offset(KLCC, 20), speed_kmh=60)
    still = await app.ping(headers, offset(KLCC, 0.002), speed_kmh=0)
    assert [r.json()["data"] for r in (poor, jump, still)] == [
        {"message": "location ignored", "accepted": False, "reason": "poor_accuracy"},
        {"message": "location ignored", "accepted": False, "reason": "implausible_jump"},
        {"message": "location updated", "accepted": True, "reason": "stationary"},
    ]
    assert published == []
    assert (await app.nearby(KLCC)).json()["data"][0]["distance_km"] == 0.0


async def test_impossible_or_future_pings_are_400(app):
    headers, _ = await app.online_runner(KLCC)
    cases = [
        {"latitude": 0, "longitude": 0}, {"latitude": -91, "longitude": 0},
        {"latitude": 3.1, "longitude": 181}, {"latitude": 3.1, "longitude": 101.7, "speed_kmh": -1},
        {"latitude": 3.1, "longitude": 101.7, "heading_degrees": 400},
        {"latitude": 3.1, "longitude": 101.7, "timestamp": "2030-01-01T00:00:00"},
    ]
    for body in cases:
        response = await app.client.post("/api/v1/runners/me/location", json=body, headers=headers)
        assert response.status_code == 400, body
    future = await app.ping(headers, KLCC, timestamp="2999-01-01T00:00:00Z")
    assert future.status_code == 400 and future.json()["error"] == "timestamp is in the future"


async def test_pings_do_not_write_the_database_until_the_periodic_flush(app):
    headers, runner = await app.online_runner(KLCC)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE RUNNERS"):
            statements.append(statement)

    event.listen(app.runtime.database.engine.sync_engine, "before_cursor_execute", record)
    try:
        last = KLCC
        for step in range(1, 21):
            app.clock.advance(4)
            last = offset(KLCC, north_km=step * 0.05)
            assert (await app.ping(headers, last, speed_kmh=45)).json()["data"]["accepted"]
        assert statements == []
        assert (await stored_row(app, runner["user_id"])).current_lat == KLCC[0]
        assert await app.live.flush_positions() == 1
        assert len(statements) == 1
    finally:
        event.remove(app.runtime.database.engine.sync_engine, "before_cursor_execute", record)
    row = await stored_row(app, runner["user_id"])
    assert (row.current_lat, row.current_lng) == last
    assert await app.live.flush_positions() == 0


async def test_background_flush_refreshes_the_row_on_its_interval(infra):
    async with runner_app(infra, location_flush_seconds=0.05) as app:
        headers, runner = await app.online_runner(KLCC)
        app.clock.advance(4)
        moved = offset(KLCC, north_km=0.1)
        await app.ping(headers, moved, speed_kmh=30)

        async def flushed():
            return (await stored_row(app, runner["user_id"])).current_lat == moved[0]

        await wait_for(flushed, timeout=2)


async def test_going_offline_removes_the_runner_from_search_at_once(app):
    headers, runner = await app.online_runner(KLCC)
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]
    await app.client.post("/api/v1/runners/me/offline", headers=headers)
    assert await app.nearby_ids(KLCC) == []
    late = await app.ping(headers, KLCC)
    assert late.status_code == 400
    assert await app.nearby_ids(KLCC) == []


async def test_a_runner_without_pings_for_the_stale_time_drops_out_until_it_pings(app):
    headers, runner = await app.online_runner(KLCC)
    app.clock.advance(119)
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]
    app.clock.advance(2)
    assert await app.nearby_ids(KLCC) == []
    assert (await app.ping(headers, KLCC)).json()["data"]["accepted"] is True
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_a_runner_lost_by_the_index_is_restored_from_its_row_on_the_next_ping(app):
    headers, runner = await app.online_runner(KLCC)
    await app.live.index.clear()
    assert await app.nearby_ids(KLCC) == []
    app.clock.advance(5)
    assert (await app.ping(headers, offset(KLCC, 0.05), speed_kmh=30)).status_code == 200
    assert await app.nearby_ids(KLCC) == [runner["user_id"]]


async def test_a_restarted_service_reloads_recently_seen_runners(infra):
    async with runner_app(infra) as app:
        _, runner = await app.online_runner(KLCC)
    async with runner_app(infra) as restarted:
        assert await restarted.nearby_ids(KLCC) == [runner["user_id"]]


async def test_a_runner_on_a_job_cannot_go_offline(app):
    headers, runner = await app.online_runner(KLCC)
    booking_id = str(uuid.uuid4())
    await app.emit("booking.accepted", booking_id=booking_id, booking_number="BK-AAAAAA",
                   owner_id=str(uuid.uuid4()), runner_id=runner["user_id"], status="accepted")

    async def busy():
        return (await app.me(headers))["active_booking_id"] == booking_id

    await wait_for(busy)
    response = await app.client.post("/api/v1/runners/me/offline", headers=headers)
    assert response.status_code == 409
    assert (await app.me(headers))["session_status"] == "active"
