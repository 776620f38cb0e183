"""Crate specs: the runner's own crates, validated, and private to that runner."""

import uuid


async def test_crates_can_be_added_listed_read_changed_and_removed(app):
    headers, _ = await app.register()
    small = await app.add_crate(headers, size="small", pet_types=["cat", "rabbit", "cat"],
                                max_weight_kg=6, width_cm=40, height_cm=30, depth_cm=50)
    large = await app.add_crate(headers)
    assert small["pet_types"] == ["cat", "rabbit"] and small["ventilated"] is True
    listed = await app.client.get("/api/v1/runners/me/crates", headers=headers)
    assert [c["id"] for c in listed.json()["data"]] == [small["id"], large["id"]]
    url = f"/api/v1/runners/me/crates/{small['id']}"
    changed = await app.client.put(url, headers=headers, json={"size": "medium",
                                                               "temperature_controlled": True})
    assert changed.status_code == 200
    assert (changed.json()["data"]["size"], changed.json()["data"]["temperature_controlled"],
            changed.json()["data"]["max_weight_kg"]) == ("medium", True, 6.0)
    assert (await app.client.get(url, headers=headers)).json()["data"]["size"] == "medium"
    deleted = await app.client.delete(url, headers=headers)
    assert deleted.json()["data"] == {"message": "crate deleted"}
    assert [c["id"] for c in (await app.me(headers))["crate_specs"]] == [large["id"]]
    assert (await app.client.get(url, headers=headers)).status_code == 404


async def test_invalid_crates_are_400_and_nothing_is_stored(app):
    headers, _ = await app.register()
    for body in ({"size": "huge", "pet_types": ["dog"], "max_weight_kg": 3},
                 {"size": "small", "pet_types": [], "max_weight_kg": 3},
                 {"size": "small", "pet_types": ["dragon"], "max_weight_kg": 3},
                 {"size": "small", "pet_types": ["dog"]},
                 {"size": "small", "pet_types": ["dog"], "max_weight_kg": 0},
                 {"size": "small", "pet_types": ["dog"], "max_weight_kg": 3, "width_cm": -1}):
        response = await app.client.post("/api/v1/runners/me/crates", json=body, headers=headers)
        assert response.status_code == 400, body
    crate = await app.add_crate(headers)
    for body in ({"size": None}, {"pet_types": []}, {"max_weight_kg": -2}, {"ventilated": None}):
        response = await app.client.put(f"/api/v1/runners/me/crates/{crate['id']}", json=body,
                                        headers=headers)
        assert response.status_code == 400, body
    assert (await app.me(headers))["crate_specs"] == [crate]


async def test_another_runners_crate_is_not_found_and_stays_untouched(app):
    owner_headers, _ = await app.register()
    crate = await app.add_crate(owner_headers)
    other_headers, _ = await app.register()
    url = f"/api/v1/runners/me/crates/{crate['id']}"
    responses = [await app.client.get(url, headers=other_headers),
                 await app.client.put(url, json={"size": "small"}, headers=other_headers),
                 await app.client.delete(url, headers=other_headers)]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert (await app.me(owner_headers))["crate_specs"] == [crate]


async def test_crates_need_a_runner_profile_and_the_runner_role(app):
    body = {"size": "small", "pet_types": ["cat"], "max_weight_kg": 4}
    unregistered = await app.client.post("/api/v1/runners/me/crates", json=body,
                                         headers=app.headers("runner"))
    owner = await app.client.post("/api/v1/runners/me/crates", json=body,
                                  headers=app.headers("owner"))
    missing = await app.client.get(f"/api/v1/runners/me/crates/{uuid.uuid4()}",
                                   headers=app.headers("runner"))
    assert (unregistered.status_code, owner.status_code, missing.status_code) == (404, 403, 404)


async def test_adding_a_crate_bumps_the_profile_version(app):
    headers, runner = await app.register()
    await app.add_crate(headers)
    stale = await app.client.put("/api/v1/runners/me", headers=headers,
                                 json={"full_name": "X", "version": runner["version"]})
    assert stale.status_code == 409
