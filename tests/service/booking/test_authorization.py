"""Who may read and act on a booking: owner, assigned runner, admin; everyone else is refused."""

import asyncio
import uuid

import pytest

from tests.service.booking.support import act, booking_at, create_booking, outbox_events

READS = ["", "/history", "/photos"]


@pytest.mark.parametrize("path", READS)
async def test_owner_a_cannot_read_owner_bs_booking_but_its_parties_and_admin_can(
        client, people, path):
    booking = await booking_at(client, people, "accepted")
    url = f"/api/v1/bookings/{booking['id']}{path}"
    statuses = {name: (await client.get(url, headers=getattr(people, name).headers)).status_code
                for name in ("owner", "runner", "admin", "other_owner", "runner2", "shop")}
    assert statuses == {"owner": 200, "runner": 200, "admin": 200, "other_owner": 403,
                        "runner2": 403, "shop": 403}


@pytest.mark.parametrize("path", READS)
async def test_reads_need_a_token(client, people, path):
    booking = await create_booking(client, people.owner)
    response = await client.get(f"/api/v1/bookings/{booking['id']}{path}")
    assert response.status_code == 401
    assert response.json() == {"success": False, "error": "authorization header is required",
                               "detail": ""}


@pytest.mark.parametrize("step", ["pickup", "deliver"])
async def test_runner_c_cannot_move_runner_ds_job(client, people, step):
    status = "accepted" if step == "pickup" else "in_progress"
    booking = await booking_at(client, people, status)
    response = await act(client, booking["id"], step, people.runner2)
    assert response.status_code == 403 and response.json()["error"] == "not your booking"
    owner_view = await client.get(f"/api/v1/bookings/{booking['id']}", headers=people.owner.headers)
    assert owner_view.json()["data"]["status"] == status


@pytest.mark.parametrize(("step", "status"), [
    ("accept", "requested"), ("pickup", "accepted"), ("deliver", "in_progress"),
    ("decline", "accepted"),
])
@pytest.mark.parametrize("person", ["owner", "admin", "shop"])
async def test_runner_steps_need_the_runner_role(client, people, step, status, person):
    booking = await booking_at(client, people, status)
    body = {"reason": "too_far"} if step == "decline" else None
    response = await act(client, booking["id"], step, getattr(people, person), body)
    assert response.status_code == 403


async def test_pickup_of_an_open_job_is_403_the_runner_must_accept_first(client, people):
    booking = await create_booking(client, people.owner)
    response = await act(client, booking["id"], "pickup", people.runner)
    assert response.status_code == 403


@pytest.mark.parametrize("person", ["other_owner", "runner", "runner2", "shop"])
async def test_only_owner_or_admin_confirms_delivery(client, people, person):
    booking = await booking_at(client, people, "delivered")
    response = await act(client, booking["id"], "confirm", getattr(people, person))
    assert response.status_code == 403


async def test_admin_may_confirm_delivery(client, people):
    booking = await booking_at(client, people, "delivered")
    response = await act(client, booking["id"], "confirm", people.admin)
    assert response.status_code == 200 and response.json()["data"]["status"] == "completed"


@pytest.mark.parametrize("person", ["other_owner", "runner2", "shop"])
async def test_strangers_cannot_cancel(client, people, runtime, person):
    booking = await booking_at(client, people, "accepted")
    response = await act(client, booking["id"], "cancel", getattr(people, person))
    assert response.status_code == 403
    assert await outbox_events(runtime, "booking.cancelled") == []


async def test_any_runner_cannot_cancel_an_open_job_it_does_not_hold(client, people):
    booking = await create_booking(client, people.owner)
    response = await act(client, booking["id"], "cancel", people.runner)
    assert response.status_code == 403


@pytest.mark.parametrize("step", ["accept", "pickup", "deliver", "confirm", "cancel", "rebook",
                                  "decline"])
async def test_actions_on_an_unknown_booking_are_404(client, people, step):
    person = people.owner if step in ("confirm", "cancel", "rebook") else people.runner
    body = {"reason": "too_far"} if step == "decline" else None
    response = await act(client, str(uuid.uuid4()), step, person, body)
    assert response.status_code == 404 and response.json()["error"] == "Booking not found"


async def test_two_runners_accepting_at_the_same_moment_one_wins_one_gets_409(client, people,
                                                                               runtime):
    for _ in range(3):
        booking = await create_booking(client, people.owner)
        results = await asyncio.gather(act(client, booking["id"], "accept", people.runner),
                                       act(client, booking["id"], "accept", people.runner2))
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        winner = next(r for r in results if r.status_code == 200).json()["data"]
        after = (await client.get(f"/api/v1/bookings/{booking['id']}",
                                  headers=people.owner.headers)).json()["data"]
        assert after["runner_id"] == winner["runner_id"] and after["version"] == 2
        assert len(await outbox_events(runtime, "booking.accepted", booking["id"])) == 1
