"""Pet profiles: owners manage their own; others get 403; delete archives."""

import uuid

import pytest

from tests.support import builders


async def _create(client, person, **overrides) -> dict:
    response = await client.post("/api/v1/pets", headers=person.headers,
                                 json=builders.pet(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def test_owner_creates_a_pet_profile(client, people):
    pet = await _create(client, people.owner)
    assert pet["owner_id"] == people.owner.id and pet["status"] == "active"
    assert (pet["name"], pet["pet_type"], pet["weight_kg"]) == ("Milo", "cat", 4.2)
    for empty in ("allergies", "notes", "photo_url"):
        assert empty not in pet


@pytest.mark.parametrize("body", [
    {"pet_type": "cat"}, {"name": "X"}, {"name": "X", "pet_type": "dragon"},
    {"name": "X", "pet_type": "cat", "weight_kg": 0}, {"name": "", "pet_type": "cat"},
    {"name": "X", "pet_type": "cat", "age_months": -1},
])
async def test_invalid_pet_is_400(client, people, body):
    response = await client.post("/api/v1/pets", headers=people.owner.headers, json=body)
    assert response.status_code == 400


async def test_only_owners_have_pets(client, people):
    runner = await client.post("/api/v1/pets", headers=people.runner.headers, json=builders.pet())
    anonymous = await client.get("/api/v1/pets")
    assert (runner.status_code, anonymous.status_code) == (403, 401)


async def test_list_holds_only_the_callers_active_pets(client, people):
    first = await _create(client, people.owner)
    second = await _create(client, people.owner, name="Rex", pet_type="dog")
    await _create(client, people.other_owner)
    await client.delete(f"/api/v1/pets/{first['id']}", headers=people.owner.headers)
    response = await client.get("/api/v1/pets", headers=people.owner.headers)
    assert [p["id"] for p in response.json()["data"]] == [second["id"]]


async def test_partial_update_changes_only_given_fields(client, people):
    pet = await _create(client, people.owner)
    response = await client.put(f"/api/v1/pets/{pet['id']}", headers=people.owner.headers,
                                json={"weight_kg": 5.0, "name": "", "breed": None})
    assert response.status_code == 200
    updated = response.json()["data"]
    assert (updated["weight_kg"], updated["name"], updated["breed"]) == (5.0, "Milo", "Siamese")
    assert updated["version"] == pet["version"] + 1


async def test_other_owners_get_403_and_unknown_pets_404(client, people):
    pet = await _create(client, people.owner)
    url = f"/api/v1/pets/{pet['id']}"
    other = people.other_owner.headers
    assert (await client.get(url, headers=other)).status_code == 403
    assert (await client.put(url, headers=other, json={"name": "Stolen"})).status_code == 403
    assert (await client.delete(url, headers=other)).status_code == 403
    unknown = f"/api/v1/pets/{uuid.uuid4()}"
    assert (await client.get(unknown, headers=people.owner.headers)).status_code == 404
    assert (await client.get(url, headers=people.owner.headers)).json()["data"]["name"] == "Milo"


async def test_admin_may_read_any_pet(client, people):
    pet = await _create(client, people.owner)
    response = await client.get(f"/api/v1/pets/{pet['id']}", headers=people.admin.headers)
    assert response.status_code == 200


async def test_delete_archives_the_profile_and_it_can_no_longer_be_edited_or_booked(client,
                                                                                   people):
    pet = await _create(client, people.owner)
    url = f"/api/v1/pets/{pet['id']}"
    deleted = await client.delete(url, headers=people.owner.headers)
    assert deleted.status_code == 200
    assert deleted.json()["data"] == {"message": "pet profile archived"}
    again = await client.delete(url, headers=people.owner.headers)
    assert again.status_code == 200
    archived = (await client.get(url, headers=people.owner.headers)).json()["data"]
    assert archived["status"] == "archived"
    edit = await client.put(url, headers=people.owner.headers, json={"name": "Ghost"})
    assert edit.status_code == 422
    from tests.support.builders import booking_body

    body = booking_body()
    del body["pet_spec"]
    body["pet_id"] = pet["id"]
    booking = await client.post("/api/v1/bookings", json=body, headers=people.owner.headers)
    assert booking.status_code == 422
