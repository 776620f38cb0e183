"""Runners whose app went silent are signed off; pinging runners and runners on a job are not."""

from sqlalchemy import MetaData, select

from kilat.platform.events.tables import event_tables
from kilat.services.runner.service import sign_off_silent
from tests.service.runner.support import KLCC, offset, runner_app, wait_for
from tests.service.runner.test_booking_and_review_facts import booking_event, settled

OUTBOX = event_tables(MetaData()).outbox
OFFLINE_AFTER = 900


async def offline_events(app) -> list[dict]:
    async with app.runtime.database.session(write=False) as session:
        rows = await session.execute(select(OUTBOX.c.payload)
                                     .where(OUTBOX.c.type == "runner.offline"))
        return [row.payload["data"] for row in rows]


async def test_silent_runners_are_signed_off_and_live_ones_stay_online(infra):
    async with runner_app(infra, offline_after_seconds=OFFLINE_AFTER) as app:
        silent_headers, silent = await app.online_runner(KLCC)
        moving_headers, moving = await app.online_runner(offset(KLCC, 1))
        still_headers, still = await app.online_runner(offset(KLCC, 2))
        busy_headers, busy = await app.online_runner(offset(KLCC, 3))
        job = booking_event(busy["user_id"], status="accepted")
        await app.emit("booking.accepted", **job)
        await settled(app, busy_headers, active_booking_id=job["booking_id"])
        for minute in range(1, 17):  # 16 minutes: the silent runner says nothing
            app.clock.advance(60)
            moved = await app.ping(moving_headers, offset(KLCC, 1, east_km=0.5 * minute),
                                   speed_kmh=30)
            stayed = await app.ping(still_headers, offset(KLCC, 2))
            assert moved.json()["data"]["accepted"] and stayed.status_code == 200

        assert await sign_off_silent(app.live) == 1
        assert (await app.me(silent_headers))["session_status"] == "inactive"
        for headers in (moving_headers, still_headers, busy_headers):
            assert (await app.me(headers))["session_status"] == "active"
        [event] = await offline_events(app)
        assert event["runner_id"] == silent["user_id"] and event["reason"] == "no_location_updates"
        assert silent["user_id"] not in await app.nearby_ids(KLCC, radius_km=10)
        assert (await app.ping(silent_headers, KLCC)).status_code == 400  # must go online again
        assert await sign_off_silent(app.live) == 0  # nothing more to do, no second event


async def test_a_runner_going_offline_says_it_asked_to(app):
    headers, _ = await app.online_runner(KLCC)
    await app.client.post("/api/v1/runners/me/offline", headers=headers)
    [event] = await offline_events(app)
    assert event["reason"] == "requested"


async def test_the_sweep_runs_by_itself_and_can_be_turned_off(infra):
    async with runner_app(infra, offline_after_seconds=OFFLINE_AFTER,
                          offline_sweep_seconds=0.05) as app:
        headers, _ = await app.online_runner(KLCC)
        app.clock.advance(OFFLINE_AFTER + 60)

        async def signed_off():
            return (await app.me(headers))["session_status"] == "inactive"

        await wait_for(signed_off)
    async with runner_app(infra, offline_after_seconds=0) as app:
        headers, _ = await app.online_runner(KLCC)
        app.clock.advance(10 * OFFLINE_AFTER)
        assert await sign_off_silent(app.live) == 0
        assert (await app.me(headers))["session_status"] == "active"
