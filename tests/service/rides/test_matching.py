"""Requests and offers: nearest drivers within the radius in batches, re-dispatch on reject and
expiry, one open request per passenger, the search ending, and who may see what."""

from __future__ import annotations

from datetime import datetime

from tests.service.rides.support import (
    accept,
    ask_ride,
    beacon,
    body,
    driver_at,
    due,
    north,
    offers_of,
    point,
    recorded,
    rides_service,
)
from tests.support.people import person

REQUESTS = "/api/v1/rides/requests"


async def test_a_request_is_offered_to_the_three_nearest_drivers_within_one_km(infra):
    async with rides_service(infra) as (runtime, client):
        placed = {m: await driver_at(client, infra, m) for m in (950, 200, 3000, 700, 400)}
        passenger = person(infra, "passenger")
        request = await ask_ride(client, passenger)
        assert request["status"] == "searching" and request["driver"] is None
        offered = {m for m, d in placed.items() if await offers_of(client, d)}
        assert offered == {200, 400, 700}
        [offer] = await offers_of(client, placed[400])
        assert offer["request_id"] == request["id"]
        assert abs(offer["distance_km"] - 0.4) < 0.001
        assert datetime.fromisoformat(offer["expires_at"]) > datetime.fromisoformat(
            offer["created_at"])
        events = await recorded(runtime, "rides.offered")
        assert [e["data"]["driver_id"] for e in events] == [placed[m].id for m in (200, 400, 700)]


async def test_a_rejection_brings_the_next_nearest_driver_in(infra):
    async with rides_service(infra) as (_runtime, client):
        near, mid, far, last = [await driver_at(client, infra, m) for m in (100, 300, 500, 800)]
        await ask_ride(client, person(infra, "passenger"))
        assert await offers_of(client, last) == []
        [offer] = await offers_of(client, near)
        rejected = body(await client.post(f"/api/v1/rides/offers/{offer['id']}/reject",
                                          headers=near.headers))
        assert rejected["status"] == "rejected"
        assert await offers_of(client, near) == []
        assert len(await offers_of(client, last)) == 1
        again = await client.post(f"/api/v1/rides/offers/{offer['id']}/reject", headers=near.headers)
        assert again.status_code == 409


async def test_offers_expire_and_the_next_drivers_are_offered_from_the_deadline_queue(infra):
    async with rides_service(infra, offer_batch=2, offer_ttl_seconds=30) as (runtime, client):
        drivers = [await driver_at(client, infra, m) for m in (100, 200, 300, 400, 500)]
        request = await ask_ride(client, person(infra, "passenger"))
        [first] = await offers_of(client, drivers[0])
        assert await due(runtime, 10) == 0  # nothing due before the deadline
        assert await due(runtime, 31) == 1
        assert [bool(await offers_of(client, d)) for d in drivers] == [False, False, True, True,
                                                                        False]
        lapsed = await accept(client, drivers[0], first["id"])
        assert lapsed.status_code == 409
        await due(runtime, 62)
        assert [bool(await offers_of(client, d)) for d in drivers] == [False] * 4 + [True]
        expired = await recorded(runtime, "rides.offered")
        assert [e["data"]["request_id"] for e in expired] == [request["id"]] * 5


async def test_a_search_nobody_accepts_expires_and_tells_the_passenger(infra):
    async with rides_service(infra, search_timeout_seconds=60) as (runtime, client):
        passenger = person(infra, "passenger")
        request = await ask_ride(client, passenger)  # nobody around
        await due(runtime, 61)
        ended = body(await client.get(f"{REQUESTS}/{request['id']}", headers=passenger.headers))
        assert ended["status"] == "expired" and ended["ended_at"]
        [event] = await recorded(runtime, "rides.search_expired")
        assert event["data"]["passenger_id"] == passenger.id
        assert (await ask_ride(client, passenger))["status"] == "searching"  # may ask again


async def test_a_driver_who_comes_online_later_is_offered_a_waiting_request(infra):
    async with rides_service(infra) as (runtime, client):
        await ask_ride(client, person(infra, "passenger"))
        late = await driver_at(client, infra, 250)
        assert await offers_of(client, late) == []
        await due(runtime, 6)
        assert len(await offers_of(client, late)) == 1


async def test_unavailable_and_busy_drivers_are_not_offered(infra):
    async with rides_service(infra) as (_runtime, client):
        resting = await driver_at(client, infra, 100)
        await beacon(client, resting, north(100), available=False)
        busy = await driver_at(client, infra, 200)
        await ask_ride(client, person(infra, "passenger"))
        [offer] = await offers_of(client, busy)
        body(await accept(client, busy, offer["id"]))
        await ask_ride(client, person(infra, "passenger"))
        assert await offers_of(client, resting) == []
        assert await offers_of(client, busy) == []


async def test_one_open_request_per_passenger_and_only_passengers_ask(infra):
    async with rides_service(infra) as (_runtime, client):
        passenger = person(infra, "passenger")
        await ask_ride(client, passenger)
        second = await client.post(REQUESTS, headers=passenger.headers, json={
            "pickup": point(north(10)), "destination": point(north(900))})
        assert second.status_code == 409
        driver = person(infra, "driver")
        as_driver = await client.post(REQUESTS, headers=driver.headers, json={
            "pickup": point(north(10)), "destination": point(north(900))})
        assert as_driver.status_code == 403
        for bad in ({"pickup": point((0, 0)), "destination": point(north(900))},
                    {"pickup": point((95, 0)), "destination": point(north(900))},
                    {"pickup": point(north(10))}):
            other = person(infra, "passenger")
            response = await client.post(REQUESTS, headers=other.headers, json=bad)
            assert response.status_code in (400, 422), bad


async def test_only_the_passenger_the_matched_driver_or_an_admin_see_a_request(infra):
    async with rides_service(infra) as (_runtime, client):
        offered = await driver_at(client, infra, 100)
        passenger = person(infra, "passenger")
        request = await ask_ride(client, passenger)
        url = f"{REQUESTS}/{request['id']}"
        assert (await client.get(url, headers=person(infra, "passenger").headers)).status_code == 403
        assert (await client.get(url, headers=offered.headers)).status_code == 403
        assert (await client.get(url, headers=person(infra, "admin").headers)).status_code == 200
        [offer] = await offers_of(client, offered)
        body(await accept(client, offered, offer["id"]))
        shown = body(await client.get(url, headers=passenger.headers))
        assert shown["status"] == "driver_found"
        assert shown["driver"] == {"user_id": offered.id, "vehicle_type": "motorcycle",
                                   "vehicle_plate": "B 1234 XYZ"}
        assert body(await client.get(url, headers=offered.headers))["status"] == "driver_found"
        missing = await client.get(f"{REQUESTS}/00000000-0000-0000-0000-000000000000",
                                   headers=passenger.headers)
        assert missing.status_code == 404


async def test_offers_are_for_drivers_and_each_driver_accepts_only_their_own(infra):
    async with rides_service(infra) as (_runtime, client):
        mine, other = await driver_at(client, infra, 100), await driver_at(client, infra, 200)
        await ask_ride(client, person(infra, "passenger"))
        passenger = person(infra, "passenger")
        assert (await client.get("/api/v1/rides/offers", headers=passenger.headers)).status_code == 403
        [offer] = await offers_of(client, mine)
        assert (await accept(client, other, offer["id"])).status_code == 403
        response = await client.post(f"/api/v1/rides/offers/{offer['id']}/accept",
                                     headers=passenger.headers)
        assert response.status_code == 403
        assert (await accept(client, mine, "00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_a_double_accept_is_refused_and_the_match_published_once(infra):
    async with rides_service(infra) as (runtime, client):
        driver = await driver_at(client, infra, 100)
        await ask_ride(client, person(infra, "passenger"))
        [offer] = await offers_of(client, driver)
        assert body(await accept(client, driver, offer["id"]))["status"] == "driver_found"
        again = await accept(client, driver, offer["id"])
        assert again.status_code == 409
        assert len(await recorded(runtime, "rides.driver_found")) == 1


async def test_the_other_offers_of_a_taken_request_are_withdrawn(infra):
    async with rides_service(infra) as (_runtime, client):
        winner, loser = await driver_at(client, infra, 100), await driver_at(client, infra, 200)
        await ask_ride(client, person(infra, "passenger"))
        [won] = await offers_of(client, winner)
        [lost] = await offers_of(client, loser)
        body(await accept(client, winner, won["id"]))
        assert await offers_of(client, loser) == []
        assert (await accept(client, loser, lost["id"])).status_code == 409
