"""The ride: start near the pickup, positions from both phones (only the driver's billed),
arrival with the driver's adjustment, and who may do each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.service.rides.support import (
    body,
    fix,
    matched,
    north,
    point,
    recorded,
    rides_service,
    started,
    track,
)
from tests.support.people import person

FAST = {"max_speed_kmh": 100_000}  # fixes sent milliseconds apart in these tests


async def test_the_driver_starts_within_100_m_of_the_pickup_only(infra):
    async with rides_service(infra) as (runtime, client):
        trip = await matched(client, infra)
        url = f"/api/v1/rides/{trip.ride_id}/start"
        far = await client.post(url, headers=trip.driver.headers, json=point(north(300)))
        assert far.status_code == 422
        assert far.json()["error"] == "too far from the pickup to start"
        assert (await client.post(url, headers=trip.passenger.headers,
                                  json=point(north(10)))).status_code == 403
        assert (await client.post(url, headers=person(infra, "driver").headers,
                                  json=point(north(10)))).status_code == 403
        ride = body(await client.post(url, headers=trip.driver.headers, json=point(north(90))))
        assert ride["status"] == "ongoing" and ride["started_at"]
        again = await client.post(url, headers=trip.driver.headers, json=point(north(90)))
        assert again.status_code == 409
        assert len(await recorded(runtime, "rides.started")) == 1


async def test_the_driver_track_is_metered_and_the_passenger_track_is_not(infra):
    async with rides_service(infra, **FAST) as (_runtime, client):
        trip = await started(client, infra)
        start = datetime.now(UTC)
        last = None
        for where, at in track(2400, 13, start, every_s=0.01):
            last = body(await fix(client, trip.driver, trip.ride_id, where, at))
        assert (last["verdict"], last["distance_m"], last["fare_so_far"]) == ("billed", 2400, 6000)
        mine = body(await fix(client, trip.passenger, trip.ride_id, north(5000)))
        assert (mine["party"], mine["verdict"], mine["distance_m"]) == ("passenger", "recorded", 2400)


async def test_a_resent_fix_counts_once(infra):
    async with rides_service(infra, **FAST) as (_runtime, client):
        trip = await started(client, infra)
        # 2 s after now (the clock skew allows 5): 500 m is then under the FAST limit however
        # quickly the machine got here from the start
        at = datetime.now(UTC) + timedelta(seconds=2)
        first = body(await fix(client, trip.driver, trip.ride_id, north(520), at))
        again = body(await fix(client, trip.driver, trip.ride_id, north(520), at))
        assert (first["verdict"], again["verdict"]) == ("billed", "duplicate")
        assert again["distance_m"] == first["distance_m"] == 500


async def test_fix_times_in_the_future_or_before_the_start_are_refused(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await started(client, infra)
        future = await fix(client, trip.driver, trip.ride_id, north(60),
                           datetime.now(UTC) + timedelta(minutes=5))
        assert future.status_code == 422 and "future" in future.json()["error"]
        before = await fix(client, trip.driver, trip.ride_id, north(60),
                           datetime.now(UTC) - timedelta(minutes=5))
        assert before.status_code == 422 and "before" in before.json()["error"]
        impossible = await fix(client, trip.driver, trip.ride_id, (0.0, 0.0))
        assert impossible.status_code == 422


async def test_implausible_speed_and_jitter_are_not_billed(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await started(client, infra)
        now = datetime.now(UTC)
        jump = body(await fix(client, trip.driver, trip.ride_id, north(5020), now))
        assert (jump["verdict"], jump["distance_m"]) == ("implausible_speed", 0)
        jitter = body(await fix(client, trip.driver, trip.ride_id, north(25),
                                now + timedelta(milliseconds=1)))
        assert (jitter["verdict"], jitter["distance_m"]) == ("jitter", 0)


async def test_only_the_rides_parties_report_positions_and_only_while_it_is_ongoing(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await matched(client, infra)
        early = await fix(client, trip.driver, trip.ride_id, north(30))
        assert early.status_code == 409
        body(await client.post(f"/api/v1/rides/{trip.ride_id}/start", headers=trip.driver.headers,
                               json=point(north(20))))
        stranger = await fix(client, person(infra, "driver"), trip.ride_id, north(30))
        assert stranger.status_code == 403
        missing = await fix(client, trip.driver, "00000000-0000-0000-0000-000000000000", north(30))
        assert missing.status_code == 404


async def test_arrival_bills_completed_km_with_the_drivers_factor_and_a_5_percent_fee(infra):
    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await started(client, infra)
        for where, at in track(5200, 26, datetime.now(UTC), every_s=0.01):
            body(await fix(client, trip.driver, trip.ride_id, where, at))
        ride = body(await client.post(f"/api/v1/rides/{trip.ride_id}/arrive",
                                      headers=trip.driver.headers,
                                      json={"adjustment_factor": 0.8}))
        assert {k: ride[k] for k in ("status", "distance_m", "fare", "adjusted_fare", "admin_fee",
                                     "driver_payout", "currency", "adjustment_factor")} == {
            "status": "awaiting_payment", "distance_m": 5200, "fare": 15_000,
            "adjusted_fare": 12_000, "admin_fee": 600, "driver_payout": 11_400,
            "currency": "IDR", "adjustment_factor": "0.8"}
        [arrived] = await recorded(runtime, "rides.arrived")
        assert arrived["data"]["admin_fee"] + arrived["data"]["driver_payout"] == 12_000


async def test_the_factor_is_required_and_within_zero_to_one(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await started(client, infra)
        url = f"/api/v1/rides/{trip.ride_id}/arrive"
        for bad in ({"adjustment_factor": 0}, {"adjustment_factor": 1.5},
                    {"adjustment_factor": -0.2}, {}, {"adjustment_factor": "lots"}):
            response = await client.post(url, headers=trip.driver.headers, json=bad)
            assert response.status_code == 400, bad
        passenger = await client.post(url, headers=trip.passenger.headers,
                                      json={"adjustment_factor": 1})
        assert passenger.status_code == 403
        ride = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.driver.headers))
        assert ride["status"] == "ongoing" and ride["fare"] is None
        full = body(await client.post(url, headers=trip.driver.headers,
                                      json={"adjustment_factor": 1}))
        assert (full["fare"], full["adjusted_fare"], full["admin_fee"]) == (0, 0, 0)


async def test_a_ride_cannot_arrive_before_it_starts(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await matched(client, infra)
        response = await client.post(f"/api/v1/rides/{trip.ride_id}/arrive",
                                     headers=trip.driver.headers, json={"adjustment_factor": 1})
        assert response.status_code == 409


async def test_my_rides_by_role_and_strangers_see_none(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await matched(client, infra)
        for who, role in ((trip.passenger, "passenger"), (trip.driver, "driver")):
            page = (await client.get(f"/api/v1/rides?role={role}", headers=who.headers)).json()
            assert [r["id"] for r in page["data"]] == [trip.ride_id]
            assert page["pagination"]["total"] == 1
        wrong = (await client.get("/api/v1/rides?role=driver", headers=trip.passenger.headers)).json()
        assert wrong["data"] == []
        assert (await client.get("/api/v1/rides?role=pilot",
                                 headers=trip.passenger.headers)).status_code == 400
        stranger = person(infra, "passenger")
        assert (await client.get(f"/api/v1/rides/{trip.ride_id}",
                                 headers=stranger.headers)).status_code == 403
        assert (await client.get("/api/v1/rides", headers=stranger.headers)).json()["data"] == []
