"""The state machine over HTTP: steps, history, events, decline, cancel, idempotent completion."""

import asyncio
import uuid

import pytest

from kilat.platform.events import Event
from tests.service.booking.support import (
    act,
    booking_at,
    create_booking,
    outbox_events,
)
from tests.support.harness import wait_for


async def test_journey_from_request_to_completion_with_history_and_events(client, people,
                                                                         runtime):
    booking = await create_booking(client, people.owner)
    bid = booking["id"]
    accepted = (await act(client, bid, "accept", people.runner)).json()["data"]
    assert accepted["status"] == "accepted" and accepted["runner_id"] == people.runner.id
    assert accepted["version"] == 2 and accepted["accepted_at"]
    picked = (await act(client, bid, "pickup", people.runner)).json()["data"]
    assert picked["status"] == "in_progress" and picked["picked_up_at"]
    delivered = (await act(client, bid, "deliver", people.runner)).json()["data"]
    assert delivered["status"] == "delivered" and delivered["delivered_at"]
    done = await act(client, bid, "confirm", people.owner)
    assert done.status_code == 200
    completed = done.json()["data"]
    assert completed["status"] == "completed" and completed["final_price_cents"] == 4423
    assert completed["version"] == 5 and completed["completed_at"]

    history = (await client.get(f"/api/v1/bookings/{bid}/history",
                                headers=people.owner.headers)).json()["data"]
    assert [(h.get("from_status"), h["to_status"], h["changed_by_role"]) for h in history] == [
        (None, "requested", "owner"), ("requested", "accepted", "runner"),
        ("accepted", "in_progress", "runner"), ("in_progress", "delivered", "runner"),
        ("delivered", "completed", "owner")]
    assert [h["changed_by"] for h in history] == [people.owner.id] + [people.runner.id] * 3 + [
        people.owner.id]

    recorded = await outbox_events(runtime, booking_id=bid)
    assert [e["type"] for e in recorded] == [
        "booking.requested", "booking.accepted", "booking.pet_picked_up",
        "booking.delivery_confirmed", "booking.completed"]
    for event in recorded[1:]:
        assert event["data"]["owner_id"] == people.owner.id
        assert event["data"]["runner_id"] == people.runner.id
        assert event["subject"] == bid
    accepted_event, picked_event, delivered_event, completed_event = (
        e["data"] for e in recorded[1:])
    assert accepted_event["accepted_at"] and accepted_event["status"] == "accepted"
    assert picked_event["picked_up_at"] and delivered_event["delivered_at"]
    assert completed_event["final_price_cents"] == 4423 and completed_event["currency"] == "MYR"


@pytest.mark.parametrize(("status", "step", "person"), [
    ("requested", "confirm", "owner"), ("accepted", "deliver", "runner"),
    ("accepted", "confirm", "owner"), ("in_progress", "pickup", "runner"),
    ("in_progress", "confirm", "owner"), ("delivered", "pickup", "runner"),
    ("delivered", "deliver", "runner"), ("completed", "deliver", "runner"),
    ("cancelled", "accept", "runner"),
])
async def test_illegal_step_is_422_and_changes_nothing(client, people, status, step, person):
    booking = await booking_at(client, people, status)
    response = await act(client, booking["id"], step, getattr(people, person))
    assert response.status_code == 422
    assert response.json()["error"].startswith("cannot transition from")
    after = await client.get(f"/api/v1/bookings/{booking['id']}", headers=people.owner.headers)
    assert after.json()["data"]["version"] == booking["version"]


async def test_accept_of_a_job_another_runner_holds_is_409(client, people):
    booking = await booking_at(client, people, "in_progress")
    response = await act(client, booking["id"], "accept", people.runner2)
    assert response.status_code == 409
    assert response.json()["error"] == "booking is no longer available"


async def test_owner_cancels_a_requested_booking_with_a_reason(client, people, runtime):
    booking = await create_booking(client, people.owner)
    response = await act(client, booking["id"], "cancel", people.owner, {"reason": "plans changed"})
    assert response.status_code == 200
    cancelled = response.json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["cancel_note"] == "plans changed"
    assert cancelled["cancelled_by"] == people.owner.id and cancelled["cancelled_at"]
    [event] = await outbox_events(runtime, "booking.cancelled", booking["id"])
    assert event["data"] | {"occurred_at": None} == {
        "booking_id": booking["id"], "booking_number": booking["booking_number"],
        "owner_id": people.owner.id, "runner_id": None, "status": "cancelled",
        "estimated_price_cents": 4423, "currency": "MYR", "occurred_at": None,
        "cancelled_by": people.owner.id, "cancelled_by_role": "owner",
        "reason": "plans changed", "previous_status": "requested"}


async def test_runner_cancel_of_an_accepted_job_tells_the_owner_in_the_event(client, people,
                                                                            runtime):
    booking = await booking_at(client, people, "accepted")
    response = await client.post(f"/api/v1/bookings/{booking['id']}/cancel",
                                 headers=people.runner.headers)
    assert response.status_code == 200 and "cancel_note" not in response.json()["data"]
    [event] = await outbox_events(runtime, "booking.cancelled", booking["id"])
    assert event["data"]["owner_id"] == people.owner.id
    assert event["data"]["runner_id"] == people.runner.id
    assert event["data"]["cancelled_by"] == people.runner.id
    assert event["data"]["cancelled_by_role"] == "runner"
    assert event["data"]["previous_status"] == "accepted" and event["data"]["reason"] is None


async def test_admin_may_cancel_any_booking(client, people):
    booking = await create_booking(client, people.owner)
    response = await act(client, booking["id"], "cancel", people.admin)
    assert response.status_code == 200
    assert response.json()["data"]["cancelled_by"] == people.admin.id


@pytest.mark.parametrize("status", ["in_progress", "delivered", "completed", "cancelled"])
async def test_cancel_after_pickup_or_at_the_end_is_422(client, people, status):
    booking = await booking_at(client, people, status)
    response = await act(client, booking["id"], "cancel", people.owner)
    assert response.status_code == 422


async def test_decline_reopens_the_job_records_the_reason_and_hides_it_from_that_runner(
        client, people, runtime):
    booking = await booking_at(client, people, "accepted")
    response = await act(client, booking["id"], "decline", people.runner, {"reason": "too_far"})
    assert response.status_code == 200
    reopened = response.json()["data"]
    assert reopened["status"] == "requested" and "runner_id" not in reopened
    [event] = await outbox_events(runtime, "booking.declined", booking["id"])
    assert event["data"]["reason"] == "too_far" and event["data"]["runner_id"] is None
    assert event["data"]["declined_by"] == people.runner.id
    history = (await client.get(f"/api/v1/bookings/{booking['id']}/history",
                                headers=people.owner.headers)).json()["data"]
    assert history[-1]["reason"] == "too_far" and history[-1]["to_status"] == "requested"
    own_list = await client.get("/api/v1/bookings", headers=people.runner.headers)
    other_list = await client.get("/api/v1/bookings", headers=people.runner2.headers)
    assert booking["id"] not in {b["id"] for b in own_list.json()["data"]}
    assert booking["id"] in {b["id"] for b in other_list.json()["data"]}
    taken = await act(client, booking["id"], "accept", people.runner2)
    assert taken.status_code == 200


@pytest.mark.parametrize("status", ["in_progress", "delivered", "completed"])
async def test_decline_by_the_assigned_runner_outside_accepted_is_409(client, people, status):
    booking = await booking_at(client, people, status)
    response = await act(client, booking["id"], "decline", people.runner, {"reason": "too_far"})
    assert response.status_code == 409
    assert response.json()["error"] == f"cannot decline booking in state '{status}'"


async def test_decline_of_a_job_cancelled_after_acceptance_is_409(client, people):
    booking = await booking_at(client, people, "accepted")
    await act(client, booking["id"], "cancel", people.owner)
    response = await act(client, booking["id"], "decline", people.runner, {"reason": "other"})
    assert response.status_code == 409


async def test_decline_of_an_open_job_is_403_as_nobody_holds_it(client, people):
    booking = await create_booking(client, people.owner)
    response = await act(client, booking["id"], "decline", people.runner, {"reason": "too_far"})
    assert response.status_code == 403


async def test_decline_with_an_unknown_reason_is_400_and_by_another_runner_403(client, people):
    booking = await booking_at(client, people, "accepted")
    bad = await act(client, booking["id"], "decline", people.runner,
                    {"reason": "not_a_valid_reason"})
    other = await act(client, booking["id"], "decline", people.runner2, {"reason": "too_far"})
    missing_body = await act(client, booking["id"], "decline", people.runner)
    assert (bad.status_code, other.status_code, missing_body.status_code) == (400, 403, 400)
    assert other.json()["error"] == "not your booking"


async def test_each_decline_reason_is_accepted(client, people):
    for reason in ("too_far", "cannot_transport", "already_busy", "pickup_issue", "other"):
        booking = await booking_at(client, people, "accepted")
        response = await act(client, booking["id"], "decline", people.runner, {"reason": reason})
        assert response.status_code == 200, reason


# --- idempotent completion -----------------------------------------------------------------------


async def _release_escrow(infra, booking: dict, runner_id: str) -> None:
    await infra.bus.publish(Event(source="payment", type="payment.escrow_released", data={
        "payment_id": str(uuid.uuid4()), "booking_id": booking["id"], "runner_id": runner_id,
        "runner_payout_cents": 3760, "platform_fee_cents": 663, "amount_cents": 4423,
        "currency": "MYR", "occurred_at": "2026-11-23T10:00:00Z"}))


async def _status(client, people, booking_id: str) -> str:
    response = await client.get(f"/api/v1/bookings/{booking_id}", headers=people.owner.headers)
    return response.json()["data"]["status"]


async def test_escrow_release_completes_a_delivered_booking(client, people, runtime, infra):
    booking = await booking_at(client, people, "delivered")
    await _release_escrow(infra, booking, people.runner.id)

    async def completed():
        return await _status(client, people, booking["id"]) == "completed"

    await wait_for(completed)
    done = (await client.get(f"/api/v1/bookings/{booking['id']}",
                             headers=people.owner.headers)).json()["data"]
    assert done["final_price_cents"] == 4423
    history = (await client.get(f"/api/v1/bookings/{booking['id']}/history",
                                headers=people.owner.headers)).json()["data"]
    assert history[-1]["changed_by_role"] == "system" and "changed_by" not in history[-1]
    assert history[-1]["reason"] == "payment.escrow_released"


async def test_confirm_then_escrow_release_completes_once(client, people, runtime, infra):
    booking = await booking_at(client, people, "delivered")
    confirmed = await act(client, booking["id"], "confirm", people.owner)
    assert confirmed.status_code == 200
    await _release_escrow(infra, booking, people.runner.id)
    await _release_escrow(infra, booking, people.runner.id)
    await asyncio.sleep(0.3)
    assert len(await outbox_events(runtime, "booking.completed", booking["id"])) == 1
    after = (await client.get(f"/api/v1/bookings/{booking['id']}",
                              headers=people.owner.headers)).json()["data"]
    assert after["version"] == confirmed.json()["data"]["version"]


async def test_escrow_release_then_confirm_is_a_200_no_op(client, people, runtime, infra):
    booking = await booking_at(client, people, "delivered")
    await _release_escrow(infra, booking, people.runner.id)

    async def completed():
        return await _status(client, people, booking["id"]) == "completed"

    await wait_for(completed)
    again = await act(client, booking["id"], "confirm", people.owner)
    twice = await act(client, booking["id"], "confirm", people.owner)
    assert (again.status_code, twice.status_code) == (200, 200)
    assert again.json()["data"]["status"] == "completed"
    assert again.json()["data"]["final_price_cents"] == 4423
    assert len(await outbox_events(runtime, "booking.completed", booking["id"])) == 1


async def test_confirm_and_escrow_release_at_the_same_moment_complete_once(client, people,
                                                                          runtime, infra):
    booking = await booking_at(client, people, "delivered")
    confirm, _ = await asyncio.gather(act(client, booking["id"], "confirm", people.owner),
                                      _release_escrow(infra, booking, people.runner.id))
    assert confirm.status_code == 200
    await asyncio.sleep(0.3)
    assert await _status(client, people, booking["id"]) == "completed"
    assert len(await outbox_events(runtime, "booking.completed", booking["id"])) == 1


async def test_escrow_release_before_delivery_or_for_unknown_booking_changes_nothing(
        client, people, runtime, infra):
    booking = await booking_at(client, people, "in_progress")
    await _release_escrow(infra, booking, people.runner.id)
    await _release_escrow(infra, {"id": str(uuid.uuid4())}, people.runner.id)
    await asyncio.sleep(0.3)
    assert await _status(client, people, booking["id"]) == "in_progress"
    assert await outbox_events(runtime, "booking.completed") == []
