"""Runner registration, profile reads and edits over HTTP."""

import uuid

from tests.service.runner.support import wait_for

WEB_RUNNER_SETUP = {"vehicle_type": "motorcycle", "vehicle_plate": "BKL 88",
                    "vehicle_model": "Honda EX5", "air_conditioned": False}


async def test_register_without_name_or_phone_defaults_from_the_identity_profile(app):
    user_id = uuid.uuid4()
    await app.emit("identity.user_registered", user_id=str(user_id), email="siti@example.com",
                   full_name="Siti Aminah", phone="+60123456789", role="runner")
    await wait_for(_profile_named(app, user_id, "Siti Aminah"))
    response = await app.client.post("/api/v1/runners", json=WEB_RUNNER_SETUP,
                                     headers=app.headers("runner", user_id))
    runner = response.json()["data"]
    assert runner["full_name"] == "Siti Aminah" and runner["phone"] == "+60123456789"
    assert runner["user_id"] == str(user_id) and runner["session_status"] == "inactive"
    assert runner["crate_specs"] == [] and runner["rating"] == 0.0
    assert runner["completion_rate"] == 1.0 and runner["total_trips"] == 0


async def test_register_without_a_profile_uses_the_token_email_and_given_values_win(app):
    _, defaulted = await app.register(**WEB_RUNNER_SETUP)
    assert defaulted["full_name"].startswith("runner-") and defaulted["phone"] is None
    _, explicit = await app.register(full_name="Ah Kow", phone="+60 12-345 6789")
    assert (explicit["full_name"], explicit["phone"]) == ("Ah Kow", "+60 12-345 6789")


async def test_profile_updates_from_identity_refresh_the_defaults(app):
    user_id = uuid.uuid4()
    await app.emit("identity.user_registered", user_id=str(user_id), email="a@example.com",
                   full_name="Old Name", phone=None, role="runner")
    await app.emit("identity.profile_updated", user_id=str(user_id), email="a@example.com",
                   full_name="New Name", phone="+60111111111")
    await wait_for(_profile_named(app, user_id, "New Name"))
    response = await app.client.post("/api/v1/runners", json={"vehicle_type": "bicycle"},
                                     headers=app.headers("runner", user_id))
    runner = response.json()["data"]
    assert (runner["full_name"], runner["phone"]) == ("New Name", "+60111111111")


def _profile_named(app, user_id, name):
    from kilat.services.runner.models import UserProfile

    async def check():
        async with app.runtime.database.session(write=False) as session:
            profile = await session.get(UserProfile, user_id)
            return profile is not None and profile.full_name == name

    return check


async def test_registering_twice_is_409(app):
    headers, _ = await app.register()
    again = await app.client.post("/api/v1/runners", json={"vehicle_type": "van",
                                                           "vehicle_plate": "V1"}, headers=headers)
    assert again.status_code == 409
    assert again.json() == {"success": False, "error": "runner profile already exists",
                            "detail": again.json()["detail"]}


BAD_REGISTRATIONS = [
    ({"vehicle_type": "truck", "vehicle_plate": "T1"}, "vehicle_type"),
    ({"vehicle_plate": "T1"}, "vehicle_type"),
    ({"vehicle_type": "car"}, "vehicle_plate is required for a car"),
    ({"vehicle_type": "van", "vehicle_plate": "   "}, "vehicle_plate is required for a van"),
    ({"vehicle_type": "car", "vehicle_plate": "A1", "vehicle_year": 1800}, "vehicle_year"),
    ({"vehicle_type": "car", "vehicle_plate": "A1", "phone": "call me"}, "phone"),
]


async def test_invalid_registration_is_400_and_creates_nothing(app):
    headers = app.headers("runner")
    for body, error in BAD_REGISTRATIONS:
        response = await app.client.post("/api/v1/runners", json=body, headers=headers)
        assert response.status_code == 400, body
        assert error in response.json()["error"], body
    assert (await app.client.get("/api/v1/runners/me", headers=headers)).status_code == 404


async def test_a_bicycle_needs_no_plate(app):
    _, runner = await app.register(vehicle_type="bicycle", vehicle_plate=None)
    assert runner["vehicle_type"] == "bicycle" and runner["vehicle_plate"] is None


async def test_only_runners_register_and_a_token_is_required(app):
    body = {"vehicle_type": "car", "vehicle_plate": "A1"}
    owner = await app.client.post("/api/v1/runners", json=body, headers=app.headers("owner"))
    anonymous = await app.client.post("/api/v1/runners", json=body)
    assert (owner.status_code, anonymous.status_code) == (403, 401)


async def test_me_is_404_until_registered_then_shows_crates(app):
    headers = app.headers("runner")
    missing = await app.client.get("/api/v1/runners/me", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"] == "runner not found"
    headers, _ = await app.register(user_id=None)
    crate = await app.add_crate(headers, size="medium", pet_types=["cat", "dog"], max_weight_kg=12)
    me = await app.me(headers)
    assert [c["id"] for c in me["crate_specs"]] == [crate["id"]]
    assert me["crate_specs"][0]["pet_types"] == ["cat", "dog"]


async def test_update_me_is_partial_and_checks_the_version(app):
    headers, runner = await app.register(vehicle_model="Myvi")
    response = await app.client.put("/api/v1/runners/me", headers=headers, json={
        "full_name": "Renamed", "air_conditioned": True, "version": runner["version"]})
    updated = response.json()["data"]
    assert response.status_code == 200
    assert (updated["full_name"], updated["air_conditioned"], updated["vehicle_model"]) == (
        "Renamed", True, "Myvi")
    assert updated["version"] == runner["version"] + 1
    stale = await app.client.put("/api/v1/runners/me", headers=headers,
                                 json={"full_name": "Lost", "version": runner["version"]})
    assert stale.status_code == 409
    assert (await app.me(headers))["full_name"] == "Renamed"


async def test_invalid_update_is_400_and_changes_nothing(app):
    headers, runner = await app.register()
    for body in ({"vehicle_type": "rocket"}, {"full_name": None}, {"vehicle_plate": None},
                 {"vehicle_year": 3000}, {"air_conditioned": None}):
        response = await app.client.put("/api/v1/runners/me", headers=headers, json=body)
        assert response.status_code == 400, body
    assert (await app.me(headers))["version"] == runner["version"]


async def test_anyone_signed_in_sees_a_runner_by_profile_or_user_id_without_the_phone(app):
    _, runner = await app.register(phone="+60123456789")
    for key in (runner["id"], runner["user_id"]):
        response = await app.client.get(f"/api/v1/runners/{key}", headers=app.headers("owner"))
        assert response.status_code == 200
        assert response.json()["data"]["id"] == runner["id"]
        assert "phone" not in response.json()["data"]
    missing = await app.client.get(f"/api/v1/runners/{uuid.uuid4()}", headers=app.headers())
    bad = await app.client.get("/api/v1/runners/not-a-uuid", headers=app.headers())
    assert (missing.status_code, bad.status_code) == (404, 400)
