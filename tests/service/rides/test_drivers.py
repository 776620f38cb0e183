"""Driver registration and the beacon: availability and position in the live index, per-driver
staleness."""

from __future__ import annotations

import time

from tests.service.rides.support import (
    PICKUP,
    ask_ride,
    beacon,
    body,
    driver_at,
    north,
    offers_of,
    point,
    rides_service,
)
from tests.support.people import person

DRIVERS = "/api/v1/rides/drivers"
PLATE = {"vehicle_type": "car", "vehicle_plate": "b 1234  xyz"}


async def test_a_driver_registers_a_vehicle_once_and_reads_it_back(infra):
    async with rides_service(infra) as (_runtime, client):
        driver = person(infra, "driver")
        assert (await client.get(f"{DRIVERS}/me", headers=driver.headers)).status_code == 404
        created = body(await client.post(DRIVERS, headers=driver.headers, json=PLATE), 201)
        assert created["user_id"] == driver.id
        assert (created["vehicle_type"], created["vehicle_plate"], created["available"]) == (
            "car", "B 1234 XYZ", False)
        assert body(await client.get(f"{DRIVERS}/me", headers=driver.headers)) == created
        again = await client.post(DRIVERS, headers=driver.headers, json=PLATE)
        assert again.status_code == 409


async def test_only_drivers_register_and_bad_vehicles_are_refused(infra):
    async with rides_service(infra) as (_runtime, client):
        passenger = person(infra, "passenger")
        assert (await client.post(DRIVERS, headers=passenger.headers, json=PLATE)).status_code == 403
        assert (await client.post(DRIVERS, json=PLATE)).status_code == 401
        driver = person(infra, "driver")
        for bad in ({"vehicle_type": "bicycle", "vehicle_plate": "B 1"},
                    {"vehicle_type": "car", "vehicle_plate": ""},
                    {"vehicle_type": "car", "vehicle_plate": "B\x00123"},
                    {"vehicle_type": "car"}):
            response = await client.post(DRIVERS, headers=driver.headers, json=bad)
            assert response.status_code == 400, bad
        assert (await client.get(f"{DRIVERS}/me", headers=driver.headers)).status_code == 404


async def test_the_beacon_switches_availability_and_position(infra):
    async with rides_service(infra) as (runtime, client):
        driver = await driver_at(client, infra, 300)
        me = body(await client.get(f"{DRIVERS}/me", headers=driver.headers))
        assert me["available"] is True
        assert (me["latitude"], me["longitude"]) == north(300)
        index = runtime.context.live.index
        assert (await index.get(driver.id, time.time())) is not None
        off = await beacon(client, driver, north(300), available=False)
        assert off["available"] is False
        assert await index.get(driver.id, time.time()) is None


async def test_a_beacon_with_impossible_coordinates_changes_nothing(infra):
    async with rides_service(infra) as (_runtime, client):
        driver = await driver_at(client, infra, 300)
        for bad in ({"latitude": 0, "longitude": 0, "available": True},
                    {"latitude": 91, "longitude": 10, "available": True},
                    {"latitude": 89.9, "longitude": 10, "available": True},
                    {"latitude": -6.2, "longitude": 106.8}):
            response = await client.post(f"{DRIVERS}/me/beacon", headers=driver.headers, json=bad)
            assert response.status_code in (400, 422), bad
        me = body(await client.get(f"{DRIVERS}/me", headers=driver.headers))
        assert (me["latitude"], me["longitude"]) == north(300)


async def test_an_unregistered_driver_has_no_beacon_and_passengers_none_at_all(infra):
    async with rides_service(infra) as (_runtime, client):
        stranger = person(infra, "driver")
        response = await client.post(f"{DRIVERS}/me/beacon", headers=stranger.headers,
                                     json=point(PICKUP) | {"available": True})
        assert response.status_code == 404
        passenger = person(infra, "passenger")
        response = await client.post(f"{DRIVERS}/me/beacon", headers=passenger.headers,
                                     json=point(PICKUP) | {"available": True})
        assert response.status_code == 403


async def test_stale_drivers_drop_out_of_matching_one_by_one(infra):
    async with rides_service(infra, beacon_stale_seconds=120) as (runtime, client):
        live = runtime.context.live
        quiet = await driver_at(client, infra, 200)
        live.clock = lambda: time.time() + 100
        chatty = await driver_at(client, infra, 500)
        live.clock = lambda: time.time() + 150  # quiet was seen 150 s ago, chatty 50 s ago
        await ask_ride(client, person(infra, "passenger"))
        assert await offers_of(client, quiet) == []
        assert len(await offers_of(client, chatty)) == 1
