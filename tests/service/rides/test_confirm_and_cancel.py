"""The passenger's confirmation (one ride per match, side effects once) and cancellation by
either side before the ride starts."""

from __future__ import annotations

from tests.service.rides.support import (
    ask_ride,
    body,
    driver_at,
    due,
    matched,
    offers_of,
    point,
    north,
    recorded,
    rides_service,
    started,
)
from tests.support.people import person

REQUESTS = "/api/v1/rides/requests"


async def test_the_passenger_confirms_and_the_ride_waits_for_pickup(infra):
    async with rides_service(infra) as (runtime, client):
        trip = await matched(client, infra)
        ride = trip.ride
        assert ride["status"] == "pickup"
        assert (ride["passenger_id"], ride["driver_id"]) == (trip.passenger.id, trip.driver.id)
        assert (ride["currency"], ride["distance_m"], ride["payment_status"]) == ("IDR", 0, "none")
        request = body(await client.get(f"{REQUESTS}/{trip.request['id']}",
                                        headers=trip.passenger.headers))
        assert (request["status"], request["ride_id"]) == ("confirmed", ride["id"])
        [event] = await recorded(runtime, "rides.confirmed")
        assert event["data"]["ride_id"] == ride["id"]


async def test_a_double_confirm_is_refused_and_publishes_nothing_more(infra):
    async with rides_service(infra) as (runtime, client):
        trip = await matched(client, infra)
        url = f"{REQUESTS}/{trip.request['id']}/confirm"
        again = await client.post(url, headers=trip.passenger.headers)
        assert again.status_code == 409
        assert again.json()["error"] == "ride already confirmed"
        assert len(await recorded(runtime, "rides.confirmed")) == 1


async def test_only_the_requesting_passenger_confirms(infra):
    async with rides_service(infra) as (runtime, client):
        trip = await matched(client, infra, confirm=False)
        url = f"{REQUESTS}/{trip.request['id']}/confirm"
        assert (await client.post(url, headers=person(infra, "passenger").headers)).status_code == 403
        assert (await client.post(url, headers=trip.driver.headers)).status_code == 403
        assert await recorded(runtime, "rides.confirmed") == []
        assert (await client.post(url, headers=trip.passenger.headers)).status_code == 201


async def test_nothing_to_confirm_before_a_driver_accepts(infra):
    async with rides_service(infra) as (_runtime, client):
        passenger = person(infra, "passenger")
        request = await ask_ride(client, passenger)
        response = await client.post(f"{REQUESTS}/{request['id']}/confirm",
                                     headers=passenger.headers)
        assert response.status_code == 409


async def test_the_passenger_cancels_a_search_and_the_offers_are_withdrawn(infra):
    async with rides_service(infra) as (runtime, client):
        driver = await driver_at(client, infra, 100)
        passenger = person(infra, "passenger")
        request = await ask_ride(client, passenger)
        cancelled = body(await client.post(f"{REQUESTS}/{request['id']}/cancel",
                                           headers=passenger.headers, json={"reason": "plans"}))
        assert (cancelled["status"], cancelled["cancelled_by"], cancelled["end_reason"]) == (
            "cancelled", "passenger", "plans")
        assert await offers_of(client, driver) == []
        again = await client.post(f"{REQUESTS}/{request['id']}/cancel", headers=passenger.headers)
        assert again.status_code == 409
        assert len(await recorded(runtime, "rides.cancelled")) == 1


async def test_a_driver_backing_out_lets_the_search_go_on_without_them(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await matched(client, infra, confirm=False)
        spare = await driver_at(client, infra, 600)
        back = body(await client.post(f"{REQUESTS}/{trip.request['id']}/cancel",
                                      headers=trip.driver.headers))
        assert back["status"] == "searching" and back["driver"] is None
        assert len(await offers_of(client, spare)) == 1
        assert await offers_of(client, trip.driver) == []  # never offered the same request again
        # the driver is free for someone else
        other = await ask_ride(client, person(infra, "passenger"), pickup=north(150))
        [offer] = await offers_of(client, trip.driver)
        assert offer["request_id"] == other["id"]


async def test_either_side_cancels_a_ride_before_it_starts_and_the_driver_is_free(infra):
    async with rides_service(infra) as (runtime, client):
        trip = await matched(client, infra)
        cancelled = body(await client.post(f"{REQUESTS}/{trip.request['id']}/cancel",
                                           headers=trip.driver.headers))
        assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "driver")
        ride = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.passenger.headers))
        assert (ride["status"], ride["cancelled_by"]) == ("cancelled", "driver")
        nxt = await ask_ride(client, trip.passenger)
        [offer] = await offers_of(client, trip.driver)
        assert offer["request_id"] == nxt["id"]


async def test_a_started_ride_cannot_be_cancelled_and_strangers_cancel_nothing(infra):
    async with rides_service(infra) as (_runtime, client):
        trip = await started(client, infra)
        url = f"{REQUESTS}/{trip.request['id']}/cancel"
        assert (await client.post(url, headers=person(infra, "passenger").headers)).status_code == 403
        response = await client.post(url, headers=trip.passenger.headers)
        assert response.status_code == 409
        ride = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.driver.headers))
        assert ride["status"] == "ongoing"


async def test_an_unconfirmed_match_lapses_and_the_request_searches_again(infra):
    async with rides_service(infra, confirm_ttl_seconds=60) as (runtime, client):
        trip = await matched(client, infra, confirm=False)
        spare = await driver_at(client, infra, 700)
        await due(runtime, 61)
        request = body(await client.get(f"{REQUESTS}/{trip.request['id']}",
                                        headers=trip.passenger.headers))
        assert request["status"] == "searching"
        assert len(await offers_of(client, spare)) == 1
        late = await client.post(f"{REQUESTS}/{trip.request['id']}/confirm",
                                 headers=trip.passenger.headers)
        assert late.status_code == 409
        [lapse] = await recorded(runtime, "rides.cancelled")
        assert lapse["data"]["cancelled_by"] == "system"
        assert point(north(0))  # the pickup stays where it was
