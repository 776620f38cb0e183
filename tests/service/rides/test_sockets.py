"""The rides socket: admission, offers to drivers, matches and ride steps to both, the driver's
live position to the passenger, an ack for every request, heartbeats and replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.service.rides.support import (
    ask_ride,
    body,
    driver_at,
    fix,
    matched,
    north,
    point,
    rides_service,
    serve,
    socket_of,
)
from tests.support.people import person

FAST = {"max_speed_kmh": 100_000}


async def refused(base: str, query: str) -> tuple[int, dict]:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(f"{base}/ws/rides?{query}", open_timeout=5):
            pass
    return caught.value.response.status_code, json.loads(caught.value.response.body)


async def test_a_socket_needs_a_passenger_or_driver_token(infra):
    async with rides_service(infra) as (runtime, _client), serve(runtime) as base:
        assert (await refused(base, ""))[0] == 401
        assert (await refused(base, "token=nonsense"))[0] == 401
        status, error = await refused(base, f"token={person(infra, 'owner').token}")
        assert status == 403 and error["success"] is False
        driver = person(infra, "driver")
        assert (await refused(base, f"token={driver.token}&since=-1"))[0] == 400
        assert runtime.context.live.hub.sockets() == 0


async def test_the_token_may_come_as_a_subprotocol(infra):
    async with rides_service(infra) as (runtime, _client), serve(runtime) as base:
        driver = person(infra, "driver")
        async with connect(f"{base}/ws/rides", subprotocols=["bearer", driver.token]) as ws:
            welcome = json.loads(await ws.recv())
            assert welcome["data"]["user_id"] == driver.id
            assert ws.subprotocol == "bearer"


async def test_offers_and_the_match_reach_both_sides_and_every_request_is_acked(infra):
    async with rides_service(infra) as (runtime, client), serve(runtime) as base:
        driver = await driver_at(client, infra, 300)
        passenger = person(infra, "passenger")
        async with socket_of(base, driver) as d, socket_of(base, passenger) as p:
            assert (await d.ask("ping"))["ok"] is True
            request = await ask_ride(client, passenger)
            offer = (await d.next("offer"))["data"]
            assert (offer["request_id"], offer["status"]) == (request["id"], "pending")
            assert offer["distance_km"] == pytest.approx(0.3, abs=0.001)
            accepted = await d.ask("accept_offer", {"offer_id": offer["id"]})
            assert accepted["ok"] and accepted["result"]["status"] == "driver_found"
            twice = await d.ask("accept_offer", {"offer_id": offer["id"]})
            assert (twice["ok"], twice["status"]) == (False, 409)
            found = (await p.next("driver_found"))["data"]
            assert found["driver"]["user_id"] == driver.id
            assert (await d.next("matched"))["data"]["id"] == request["id"]
            confirmed = await p.ask("confirm", {"request_id": request["id"]})
            assert confirmed["ok"] and confirmed["result"]["status"] == "pickup"
            ride_id = confirmed["result"]["id"]
            for side in (p, d):
                assert (await side.next("ride_confirmed"))["data"]["id"] == ride_id


async def test_ride_steps_and_the_drivers_position_reach_the_passenger(infra):
    async with rides_service(infra, **FAST) as (runtime, client), serve(runtime) as base:
        trip = await matched(client, infra)
        async with socket_of(base, trip.driver) as d, socket_of(base, trip.passenger) as p:
            body(await client.post(f"/api/v1/rides/{trip.ride_id}/start",
                                   headers=trip.driver.headers, json=point(north(20))))
            for side in (p, d):
                assert (await side.next("ride_started"))["data"]["status"] == "ongoing"
            sent = await d.ask("location", {"ride_id": trip.ride_id,
                                            **point(north(320)),
                                            "recorded_at": datetime.now(UTC).isoformat()})
            assert sent["ok"] and sent["result"]["verdict"] == "billed"
            seen = (await p.next("driver_location"))["data"]
            assert (seen["latitude"], seen["distance_m"]) == (north(320)[0], 300)
            body(await client.post(f"/api/v1/rides/{trip.ride_id}/arrive",
                                   headers=trip.driver.headers, json={"adjustment_factor": 1}))
            for side in (p, d):
                assert (await side.next("ride_arrived"))["data"]["status"] == "awaiting_payment"


async def test_bad_frames_get_error_frames_and_refused_requests_a_failed_ack(infra):
    async with rides_service(infra) as (runtime, client), serve(runtime) as base:
        trip = await matched(client, infra)
        stranger = person(infra, "driver")
        async with socket_of(base, stranger) as s, socket_of(base, trip.passenger) as p:
            await s.ws.send("not json")
            assert (await s.next("error"))["data"]["code"] == "invalid_format"
            unknown = await s.ask("teleport")
            assert (unknown["ok"], unknown["status"]) == (False, 400)
            located = await s.ask("location", {"ride_id": trip.ride_id, **point(north(30))})
            assert (located["ok"], located["status"]) == (False, 403)
            beacon = await p.ask("beacon", {**point(north(30)), "available": True})
            assert (beacon["ok"], beacon["status"]) == (False, 403)
            invalid = await s.ask("beacon", {"latitude": "north"})
            assert (invalid["ok"], invalid["status"]) == (False, 422)
            missing = await s.ask("accept_offer", {})
            assert (missing["ok"], missing["status"]) == (False, 400)


async def test_a_reconnecting_socket_gets_the_frames_it_missed_in_order(infra):
    async with rides_service(infra) as (runtime, client), serve(runtime) as base:
        driver = await driver_at(client, infra, 300)
        async with socket_of(base, driver) as d:
            await ask_ride(client, person(infra, "passenger"))
            first = await d.next("offer")
        last_seen = first["seq"]
        await ask_ride(client, person(infra, "passenger"), pickup=north(100))
        await ask_ride(client, person(infra, "passenger"), pickup=north(200))
        async with socket_of(base, driver, since=last_seen) as again:
            missed = [await again.next("offer"), await again.next("offer")]
        assert [f["seq"] for f in missed] == sorted(f["seq"] for f in missed)
        assert all(f["seq"] > last_seen for f in missed)
        async with socket_of(base, driver) as fresh:  # no since: only what comes from now on
            assert (await fresh.ask("ping"))["ok"]
            assert [f["event"] for f in fresh.seen] == ["welcome", "ack"]


async def test_the_server_sends_heartbeats(infra):
    async with rides_service(infra, socket_heartbeat_seconds=0.1) as (runtime, _client), \
            serve(runtime) as base:
        async with socket_of(base, person(infra, "passenger")) as p:
            beat = await p.next("heartbeat", timeout=2)
            assert beat["data"]["at"]


async def test_a_beacon_over_the_socket_puts_the_driver_in_matching(infra):
    async with rides_service(infra) as (runtime, client), serve(runtime) as base:
        driver = await driver_at(client, infra, 300, available=False)
        async with socket_of(base, driver) as d:
            on = await d.ask("beacon", {**point(north(150)), "available": True})
            assert on["ok"] and on["result"]["available"] is True
            await ask_ride(client, person(infra, "passenger"))
            assert (await d.next("offer"))["data"]["distance_km"] == pytest.approx(0.15, abs=0.001)
            got = await fix(client, driver, "00000000-0000-0000-0000-000000000000", north(1))
            assert got.status_code == 404


async def test_rejects_cancellations_and_lapses_reach_the_sockets(infra):
    from tests.service.rides.support import due

    async with rides_service(infra, search_timeout_seconds=60) as (runtime, client), \
            serve(runtime) as base:
        first, second = await driver_at(client, infra, 100), await driver_at(client, infra, 200)
        passenger = person(infra, "passenger")
        async with socket_of(base, first) as one, socket_of(base, second) as two, \
                socket_of(base, passenger) as p:
            request = await ask_ride(client, passenger)
            offer = (await one.next("offer"))["data"]
            rejected = await one.ask("reject_offer", {"offer_id": offer["id"]})
            assert rejected["ok"] and rejected["result"]["status"] == "rejected"
            await two.next("offer")
            cancelled = await p.ask("cancel", {"request_id": request["id"], "reason": "later"})
            assert cancelled["ok"] and cancelled["result"]["status"] == "cancelled"
            assert (await two.next("offer_withdrawn"))["data"]["request_id"] == request["id"]
            stranger = await one.ask("cancel", {"request_id": request["id"]})
            assert (stranger["ok"], stranger["status"]) == (False, 403)

            lonely = await ask_ride(client, passenger)
            lapsed = (await one.next("offer"))["data"]
            await due(runtime, 31)
            assert (await one.next("offer_expired"))["data"]["offer_id"] == lapsed["id"]
            await due(runtime, 61)
            assert (await p.next("search_expired"))["data"]["request_id"] == lonely["id"]


async def test_payment_steps_reach_both_sockets(infra):
    from tests.service.rides.support import charge_event, deliver, started, track

    async with rides_service(infra, **FAST) as (runtime, client), serve(runtime) as base:
        trip = await started(client, infra)
        for where, at in track(1200, 7, datetime.now(UTC), every_s=0.01):
            body(await fix(client, trip.driver, trip.ride_id, where, at))
        body(await client.post(f"/api/v1/rides/{trip.ride_id}/arrive",
                               headers=trip.driver.headers, json={"adjustment_factor": 1}))
        url = f"/api/v1/rides/{trip.ride_id}/payment"
        async with socket_of(base, trip.driver) as d, socket_of(base, trip.passenger) as p:
            first = body(await client.post(url, headers=trip.passenger.headers,
                                           json={"decision": "accept"}), 202)
            for side in (p, d):
                assert (await side.next("payment_pending"))["data"]["adjusted_fare"] == 3000
            await deliver(runtime, charge_event("payment.charge_failed", first, reason="declined"))
            for side in (p, d):
                assert (await side.next("payment_failed"))["data"]["payment_error"] == "declined"
            second = body(await client.post(url, headers=trip.passenger.headers,
                                            json={"decision": "accept"}), 202)
            await deliver(runtime, charge_event("payment.charge_captured", second))
            for side in (p, d):
                assert (await side.next("ride_completed"))["data"]["payment_status"] == "paid"


async def test_a_client_flooding_the_socket_is_told_to_slow_down(infra):
    async with rides_service(infra, socket_request_burst=3, socket_requests_per_second=0.5) as (
            runtime, _client), serve(runtime) as base:
        async with socket_of(base, person(infra, "passenger")) as p:
            for _ in range(5):
                await p.ws.send(json.dumps({"event": "ping"}))
            replies = [await p.next() for _ in range(5)]
        assert [r["event"] for r in replies].count("ack") == 3
        assert replies[-1]["data"]["code"] == "too_many_requests"
