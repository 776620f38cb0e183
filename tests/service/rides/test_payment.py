"""Payment: accept asks the payment service by event (rides.charge_requested), its answers move
the ride on once however often they arrive, and a refused payment leaves a way forward."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from tests.service.rides.support import (
    body,
    charge_event,
    deliver,
    fix,
    recorded,
    rides_service,
    started,
    track,
)
from tests.support.people import person

FAST = {"max_speed_kmh": 100_000}


async def arrived(client, infra, metres: float = 5200, factor: float = 0.8):
    trip = await started(client, infra)
    for where, at in track(metres, 26, datetime.now(UTC), every_s=0.01):
        body(await fix(client, trip.driver, trip.ride_id, where, at))
    trip.ride = body(await client.post(f"/api/v1/rides/{trip.ride_id}/arrive",
                                       headers=trip.driver.headers,
                                       json={"adjustment_factor": factor}))
    return trip


async def pay(client, trip, decision: str = "accept", status: int = 202) -> dict:
    return body(await client.post(f"/api/v1/rides/{trip.ride_id}/payment",
                                  headers=trip.passenger.headers, json={"decision": decision}),
                status)


async def test_accepting_asks_the_payment_service_for_the_charge_in_an_event(infra):
    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await arrived(client, infra)
        ride = await pay(client, trip)
        assert (ride["status"], ride["payment_status"], ride["payment_attempt"]) == (
            "payment_pending", "pending", 1)
        [asked] = await recorded(runtime, "rides.charge_requested")
        data = asked["data"]
        assert data == data | {
            "charge_id": ride["charge_id"], "source": "rides", "reference_id": trip.ride_id,
            "payer_id": trip.passenger.id, "amount": 12_000, "currency": "IDR",
            "payee_id": trip.driver.id, "payee_amount": 11_400, "fee_amount": 600}
        assert asked["id"] == str(uuid.uuid5(uuid.UUID("6f1d8a52-3c55-4d4e-9a59-0c7f3f1b2d11"),
                                             f"rides.charge_requested:{trip.ride_id}:1"))
        again = await client.post(f"/api/v1/rides/{trip.ride_id}/payment",
                                  headers=trip.passenger.headers, json={"decision": "accept"})
        assert again.status_code == 409
        assert len(await recorded(runtime, "rides.charge_requested")) == 1


async def test_a_captured_charge_completes_the_ride_once_however_often_it_is_delivered(infra):
    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await arrived(client, infra)
        ride = await pay(client, trip)
        captured = charge_event("payment.charge_captured", ride, payee_id=trip.driver.id,
                                payee_amount=11_400, fee_amount=600)
        await deliver(runtime, captured)
        await deliver(runtime, captured)  # redelivered: the inbox drops it
        await deliver(runtime, charge_event("payment.charge_captured", ride))  # same fact, new id
        done = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.driver.headers))
        assert (done["status"], done["payment_status"]) == ("completed", "paid")
        assert done["paid_at"] and done["completed_at"]
        [completed] = await recorded(runtime, "rides.completed")
        assert completed["data"]["driver_payout"] == 11_400
        assert completed["data"]["currency"] == "IDR"


async def test_the_endpoint_answers_with_the_outcome_when_it_comes_in_time(infra):
    async with rides_service(infra, payment_wait_seconds=5, **FAST) as (runtime, client):
        trip = await arrived(client, infra)
        answer = asyncio.ensure_future(client.post(
            f"/api/v1/rides/{trip.ride_id}/payment", headers=trip.passenger.headers,
            json={"decision": "accept"}))
        [asked] = await _wait_for_charge(runtime)
        ride = {"id": trip.ride_id, "charge_id": asked["data"]["charge_id"],
                "passenger_id": trip.passenger.id, "adjusted_fare": 12_000}
        await deliver(runtime, charge_event("payment.charge_captured", ride))
        response = await answer
        assert response.status_code == 200
        assert response.json()["data"]["status"] == "completed"


async def _wait_for_charge(runtime):
    for _ in range(200):
        if found := await recorded(runtime, "rides.charge_requested"):
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("no charge asked for")


async def test_a_failed_charge_leaves_the_ride_awaiting_payment_and_a_retry_is_a_new_charge(infra):
    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await arrived(client, infra)
        first = await pay(client, trip)
        failed = charge_event("payment.charge_failed", first, reason="card declined")
        await deliver(runtime, failed)
        await deliver(runtime, failed)
        ride = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.passenger.headers))
        assert (ride["status"], ride["payment_status"], ride["payment_error"]) == (
            "awaiting_payment", "failed", "card declined")
        assert len(await recorded(runtime, "rides.payment_failed")) == 1
        second = await pay(client, trip)
        assert second["payment_attempt"] == 2 and second["charge_id"] != first["charge_id"]
        late = charge_event("payment.charge_captured", first)  # the old charge: ignored
        await deliver(runtime, late)
        still = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.passenger.headers))
        assert still["status"] == "payment_pending"
        await deliver(runtime, charge_event("payment.charge_captured", second))
        paid = body(await client.get(f"/api/v1/rides/{trip.ride_id}", headers=trip.passenger.headers))
        assert (paid["status"], paid["charge_id"]) == ("completed", second["charge_id"])


async def test_a_rejected_fare_is_quoted_again_by_the_driver_then_paid(infra):
    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await arrived(client, infra)
        rejected = await pay(client, trip, "reject", 200)
        assert (rejected["status"], rejected["payment_status"]) == ("awaiting_payment", "failed")
        requote = body(await client.post(f"/api/v1/rides/{trip.ride_id}/arrive",
                                         headers=trip.driver.headers,
                                         json={"adjustment_factor": 0.5}))
        assert (requote["adjusted_fare"], requote["admin_fee"], requote["driver_payout"]) == (
            7_500, 375, 7_125)
        ride = await pay(client, trip)
        assert ride["status"] == "payment_pending"
        [asked] = await recorded(runtime, "rides.charge_requested")
        assert asked["data"]["amount"] == 7_500


async def test_only_the_passenger_pays_and_only_once_the_driver_has_arrived(infra):
    async with rides_service(infra, **FAST) as (_runtime, client):
        trip = await started(client, infra)
        url = f"/api/v1/rides/{trip.ride_id}/payment"
        early = await client.post(url, headers=trip.passenger.headers, json={"decision": "accept"})
        assert early.status_code == 409
        body(await client.post(f"/api/v1/rides/{trip.ride_id}/arrive", headers=trip.driver.headers,
                               json={"adjustment_factor": 1}))
        for who in (trip.driver, person(infra, "passenger")):
            response = await client.post(url, headers=who.headers, json={"decision": "accept"})
            assert response.status_code == 403
        bad = await client.post(url, headers=trip.passenger.headers, json={"decision": "maybe"})
        assert bad.status_code == 400


async def test_a_ride_under_one_km_costs_nothing_and_completes_without_a_charge(infra):
    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await arrived(client, infra, metres=900, factor=1)
        assert trip.ride["fare"] == 0
        done = await pay(client, trip, status=200)
        assert (done["status"], done["payment_status"]) == ("completed", "not_needed")
        assert await recorded(runtime, "rides.charge_requested") == []


async def test_once_paid_the_driver_is_free_and_matched_from_where_the_ride_ended(infra):
    from tests.service.rides.support import ask_ride, north, offers_of

    async with rides_service(infra, **FAST) as (runtime, client):
        trip = await arrived(client, infra)  # the driver beaconed near the pickup, drove 5.2 km
        ride = await pay(client, trip)
        await deliver(runtime, charge_event("payment.charge_captured", ride))
        assert (await ask_ride(client, person(infra, "passenger")))["status"] == "searching"
        assert await offers_of(client, trip.driver) == []  # the old pickup is 5 km behind
        there = await ask_ride(client, person(infra, "passenger"), pickup=north(5300))
        [offer] = await offers_of(client, trip.driver)
        assert offer["request_id"] == there["id"]
