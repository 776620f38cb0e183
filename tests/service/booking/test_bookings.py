"""Creating, reading, listing and rebooking bookings over HTTP."""

import json
import uuid

import pytest

from tests.service.booking.support import (
    SMALL_DOG_DROPOFF,
    SMALL_DOG_PICKUP,
    act,
    booking_at,
    create_booking,
    outbox_events,
)
from tests.support.builders import booking_body


async def test_owner_creates_a_booking_priced_4423_for_the_spec_vector(client, people):
    response = await client.post("/api/v1/bookings", json=booking_body(),
                                 headers=people.owner.headers)
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    booking = body["data"]
    assert booking["estimated_price_cents"] == 4423 and booking["currency"] == "MYR"
    assert booking["status"] == "requested" and booking["version"] == 1
    assert booking["owner_id"] == people.owner.id
    assert booking["booking_number"].startswith("BK-") and len(booking["booking_number"]) == 9
    assert booking["crate_requirement"] == {"minimum_size": "large", "needs_ventilation": True,
                                            "needs_temp_control": False,
                                            "minimum_weight_capacity": 22.2}
    route = booking["route_spec"]
    assert route["distance_km"] == 9.6939 and route["estimated_duration_min"] == 20
    assert route["pickup_lat"] == 3.159 and route["dropoff_lng"] == 101.642 and route["polyline"]
    assert booking["pet_spec"]["name"] == "Rex" and booking["pet_spec"]["vaccinations"][0][
        "vaccine_name"] == "Rabies"


async def test_empty_optional_fields_are_omitted_from_the_booking(client, people):
    booking = await create_booking(client, people.owner, notes="")
    for absent in ("runner_id", "final_price_cents", "scheduled_at", "picked_up_at",
                   "delivered_at", "cancelled_at", "cancel_note", "notes", "pet_id"):
        assert absent not in booking
    assert "special_needs" not in booking["pet_spec"] and "photo_url" not in booking["pet_spec"]
    assert "line2" not in booking["pickup_address"]


async def test_second_spec_vector_small_dog_costs_1710(client, people):
    booking = await create_booking(client, people.owner, weight_kg=5, pickup=SMALL_DOG_PICKUP,
                                   dropoff=SMALL_DOG_DROPOFF)
    assert booking["estimated_price_cents"] == 1710
    assert booking["crate_requirement"]["minimum_size"] == "small"


@pytest.mark.parametrize("pet_type", ["hamster", "fish"])
async def test_hamster_and_fish_are_accepted_and_priced_as_other(client, people, pet_type):
    booking = await create_booking(client, people.owner, pet_type=pet_type, weight_kg=0.2)
    assert booking["pet_spec"]["pet_type"] == pet_type
    other = await create_booking(client, people.owner, pet_type="other", weight_kg=0.2)
    assert booking["estimated_price_cents"] == other["estimated_price_cents"]


async def test_reptile_needs_temperature_control(client, people):
    booking = await create_booking(client, people.owner, pet_type="reptile", weight_kg=2)
    assert booking["crate_requirement"]["needs_temp_control"] is True


async def test_create_records_requested_event_with_price_pet_and_coordinates(client, people,
                                                                            runtime):
    booking = await create_booking(client, people.owner, scheduled_at="2030-01-02T03:04:05")
    assert booking["scheduled_at"] == "2030-01-02T03:04:05Z"
    [event] = await outbox_events(runtime, "booking.requested", booking["id"])
    data = event["data"]
    assert event["subject"] == booking["id"] and event["source"] == "booking"
    assert data == data | {
        "booking_id": booking["id"], "booking_number": booking["booking_number"],
        "owner_id": people.owner.id, "runner_id": None, "status": "requested",
        "estimated_price_cents": 4423, "currency": "MYR", "pet_type": "dog", "pet_name": "Rex",
        "weight_kg": 18.5, "pickup_lat": 3.159, "pickup_lng": 101.7123, "dropoff_lat": 3.1073,
        "dropoff_lng": 101.642}
    assert data["occurred_at"]


def _set(path: str, value):
    def change(body: dict) -> None:
        *parents, leaf = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        target[leaf] = value
    return change


@pytest.mark.parametrize(("change", "message"), [
    (_set("pet_spec", None), "pet_spec or pet_id is required"),
    (_set("pet_spec.pet_type", "horse"), "invalid pet type: horse"),
    (_set("pet_spec.weight_kg", 0), "weight_kg"),
    (_set("pet_spec.weight_kg", -3), "weight_kg"),
    (_set("pet_spec.name", "   "), "name"),
    (_set("pickup_address.latitude", 91), "latitude"),
    (_set("dropoff_address.longitude", 181), "longitude"),
    (_set("notes", "x" * 1001), "notes"),
    (_set("notes", "nul\x00byte"), "NUL"),
    (_set("pickup_address.city", "\ud800"), "unicode"),
    (_set("scheduled_at", "tomorrow"), "scheduled_at"),
    (_set("pet_id", "not-a-uuid"), "pet_id"),
])
async def test_invalid_create_body_is_400_and_creates_nothing(client, people, change, message):
    body = booking_body()
    change(body)
    headers = people.owner.headers | {"Content-Type": "application/json"}
    response = await client.post("/api/v1/bookings", content=json.dumps(body),  # ASCII escapes
                                 headers=headers)
    assert response.status_code == 400
    assert response.json()["success"] is False and message in response.json()["error"]
    listing = await client.get("/api/v1/bookings", headers=people.owner.headers)
    assert listing.json()["pagination"]["total"] == 0


async def test_address_without_required_line1_is_400(client, people):
    body = booking_body()
    del body["pickup_address"]["line1"]
    response = await client.post("/api/v1/bookings", json=body, headers=people.owner.headers)
    assert response.status_code == 400 and "line1" in response.json()["error"]


async def test_only_owners_create_bookings(client, people):
    runner = await client.post("/api/v1/bookings", json=booking_body(),
                               headers=people.runner.headers)
    anonymous = await client.post("/api/v1/bookings", json=booking_body())
    assert (runner.status_code, anonymous.status_code) == (403, 401)


async def test_booking_numbers_are_unique_even_when_the_generator_repeats(client, people,
                                                                         monkeypatch):
    from kilat.services.booking import domain

    numbers = iter(["BK-AAAAAA", "BK-AAAAAA", "BK-BBBBBB"])
    monkeypatch.setattr(domain, "new_booking_number", lambda: next(numbers))
    first = await create_booking(client, people.owner)
    second = await create_booking(client, people.owner)
    assert (first["booking_number"], second["booking_number"]) == ("BK-AAAAAA", "BK-BBBBBB")


async def test_get_returns_the_booking_to_its_owner_and_404_for_unknown_ids(client, people):
    booking = await create_booking(client, people.owner)
    found = await client.get(f"/api/v1/bookings/{booking['id']}", headers=people.owner.headers)
    missing = await client.get(f"/api/v1/bookings/{uuid.uuid4()}", headers=people.owner.headers)
    malformed = await client.get("/api/v1/bookings/not-a-uuid", headers=people.owner.headers)
    assert found.status_code == 200 and found.json()["data"] == booking
    assert missing.status_code == 404 and missing.json()["error"] == "Booking not found"
    assert malformed.status_code == 400


async def test_owner_list_holds_only_own_bookings_newest_first_paginated(client, people):
    mine = [await create_booking(client, people.owner) for _ in range(3)]
    await create_booking(client, people.other_owner)
    response = await client.get("/api/v1/bookings?page=1&limit=2", headers=people.owner.headers)
    body = response.json()
    assert body["pagination"] == {"total": 3, "page": 1, "limit": 2, "total_pages": 2}
    assert [b["id"] for b in body["data"]] == [mine[2]["id"], mine[1]["id"]]


async def test_runner_sees_open_jobs_and_own_jobs_but_not_other_runners_jobs(client, people):
    open_job = await create_booking(client, people.owner)
    mine = await create_booking(client, people.owner)
    theirs = await create_booking(client, people.other_owner)
    await act(client, mine["id"], "accept", people.runner)
    await act(client, theirs["id"], "accept", people.runner2)
    response = await client.get("/api/v1/bookings", headers=people.runner.headers)
    assert {b["id"] for b in response.json()["data"]} == {open_job["id"], mine["id"]}
    requested = await client.get("/api/v1/bookings?status=requested", headers=people.runner.headers)
    assert [b["id"] for b in requested.json()["data"]] == [open_job["id"]]


async def test_open_job_can_be_read_by_any_runner_before_it_is_taken(client, people):
    booking = await create_booking(client, people.owner)
    seen = await client.get(f"/api/v1/bookings/{booking['id']}", headers=people.runner2.headers)
    assert seen.status_code == 200
    await act(client, booking["id"], "accept", people.runner)
    hidden = await client.get(f"/api/v1/bookings/{booking['id']}", headers=people.runner2.headers)
    assert hidden.status_code == 403


async def test_status_filter_words_active_completed_and_comma_lists(client, people):
    requested = await booking_at(client, people, "requested")
    accepted = await booking_at(client, people, "accepted")
    delivered = await booking_at(client, people, "delivered")
    completed = await booking_at(client, people, "completed")
    cancelled = await booking_at(client, people, "cancelled")

    async def ids(query: str, person) -> set[str]:
        response = await client.get(f"/api/v1/bookings?status={query}", headers=person.headers)
        assert response.status_code == 200, response.text
        return {b["id"] for b in response.json()["data"]}

    assert await ids("active", people.owner) == {accepted["id"], delivered["id"]}
    assert await ids("completed", people.owner) == {completed["id"]}
    assert await ids("requested,cancelled", people.owner) == {requested["id"], cancelled["id"]}
    assert await ids("active", people.runner) == {accepted["id"], delivered["id"]}
    assert await ids("completed", people.admin) == {completed["id"]}


async def test_unknown_status_filter_is_400(client, people):
    response = await client.get("/api/v1/bookings?status=picked_up", headers=people.owner.headers)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid status filter: picked_up"


async def test_runner_finds_open_jobs_near_a_point_nearest_first(client, people):
    far = await create_booking(client, people.owner, pickup=(1.3521, 103.8198))
    near = await create_booking(client, people.owner, pickup=(3.1073, 101.6420))
    nearest = await create_booking(client, people.owner, pickup=(3.1590, 101.7123))
    response = await client.get(
        "/api/v1/bookings?status=requested&latitude=3.16&longitude=101.71&radius_km=15",
        headers=people.runner.headers)
    assert [b["id"] for b in response.json()["data"]] == [nearest["id"], near["id"]]
    assert far["id"] not in {b["id"] for b in response.json()["data"]}
    half = await client.get("/api/v1/bookings?latitude=3.16&longitude=101.71",
                            headers=people.runner.headers)
    assert half.json()["pagination"]["total"] == 2  # default radius 10 km
    lonely = await client.get("/api/v1/bookings?latitude=3.16", headers=people.runner.headers)
    assert lonely.status_code == 400


async def test_rebook_creates_a_new_requested_booking_with_the_same_pet_and_addresses(
        client, people, runtime):
    original = await booking_at(client, people, "completed")
    response = await act(client, original["id"], "rebook", people.owner)
    assert response.status_code == 201
    copy = response.json()["data"]
    assert copy["id"] != original["id"] and copy["booking_number"] != original["booking_number"]
    assert copy["status"] == "requested" and "runner_id" not in copy
    assert copy["rebooked_from_id"] == original["id"]
    for same in ("pet_spec", "pickup_address", "dropoff_address", "estimated_price_cents"):
        assert copy[same] == original[same]
    assert len(await outbox_events(runtime, "booking.requested", copy["id"])) == 1


async def test_only_the_owner_may_rebook(client, people):
    original = await create_booking(client, people.owner)
    other = await act(client, original["id"], "rebook", people.other_owner)
    runner = await act(client, original["id"], "rebook", people.runner)
    missing = await act(client, str(uuid.uuid4()), "rebook", people.owner)
    assert (other.status_code, runner.status_code, missing.status_code) == (403, 403, 404)


async def test_booking_from_a_saved_pet_copies_its_profile(client, people):
    pet = (await client.post("/api/v1/pets", headers=people.owner.headers, json={
        "name": "Milo", "pet_type": "cat", "weight_kg": 4.2, "breed": "Siamese",
        "special_needs": "shy"})).json()["data"]
    body = booking_body()
    del body["pet_spec"]
    body["pet_id"] = pet["id"]
    response = await client.post("/api/v1/bookings", json=body, headers=people.owner.headers)
    assert response.status_code == 201
    booking = response.json()["data"]
    assert booking["pet_id"] == pet["id"]
    assert booking["pet_spec"] == {"pet_type": "cat", "name": "Milo", "weight_kg": 4.2,
                                   "breed": "Siamese", "special_needs": "shy", "vaccinations": []}
    assert booking["estimated_price_cents"] == 500 + 2423 + 300 + 0


async def test_booking_with_someone_elses_or_an_unknown_or_weightless_pet_is_refused(client,
                                                                                    people):
    theirs = (await client.post("/api/v1/pets", headers=people.other_owner.headers,
                                json={"name": "Tom", "pet_type": "cat", "weight_kg": 3})).json()
    weightless = (await client.post("/api/v1/pets", headers=people.owner.headers,
                                    json={"name": "Kiki", "pet_type": "bird"})).json()
    body = booking_body()
    del body["pet_spec"]
    results = []
    for pet_id in (theirs["data"]["id"], str(uuid.uuid4()), weightless["data"]["id"]):
        body["pet_id"] = pet_id
        results.append((await client.post("/api/v1/bookings", json=body,
                                          headers=people.owner.headers)).status_code)
    assert results == [403, 404, 422]


async def test_pet_spec_wins_over_the_profile_when_both_are_sent(client, people):
    pet = (await client.post("/api/v1/pets", headers=people.owner.headers,
                             json={"name": "Milo", "pet_type": "cat", "weight_kg": 4})).json()
    booking = await create_booking(client, people.owner, pet_id=pet["data"]["id"])
    assert booking["pet_id"] == pet["data"]["id"] and booking["pet_spec"]["name"] == "Rex"


async def test_address_coordinates_of_zero_are_valid(client, people):
    booking = await create_booking(client, people.owner, pickup=(0, 0), dropoff=(0, 0.01))
    assert booking["pickup_address"]["latitude"] == 0
    assert booking["estimated_price_cents"] == 500 + 277 + 500 + 1000  # 1.112 km
