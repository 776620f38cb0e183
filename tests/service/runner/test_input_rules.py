"""Runner profiles and pet shops: text a database cannot store, non-web URLs and huge versions
are 400 with the envelope."""

import pytest

from kilat.platform.schemas import INT32_MAX

SHOP = {"name": "Cozy Paws", "address": "1 Jalan Sultan Ismail, Kuala Lumpur",
        "latitude": 3.1478, "longitude": 101.7069, "category": "grooming"}
HOSTILE_URLS = ["javascript:alert(1)", " JavaScript:alert(document.cookie)",
                "data:image/svg+xml,<svg onload=alert(1)>", "ftp://files.example/x.png",
                "https://cdn.example/" + "a" * 2048]


def refused(response, field: str) -> bool:
    body = response.json()
    return response.status_code == 400 and body["success"] is False and field in body["error"]


@pytest.mark.parametrize(("change", "field"), [
    ({"full_name": "Ali\x00"}, "full_name"), ({"vehicle_model": "Myvi\x00"}, "vehicle_model"),
    ({"vehicle_plate": "WXY\x1b1234"}, "vehicle_plate"),
])
async def test_a_runner_profile_with_control_characters_is_400(app, change, field):
    headers = app.headers("runner")
    body = {"vehicle_type": "car", "vehicle_plate": "WXY 1234"} | change
    response = await app.client.post("/api/v1/runners", json=body, headers=headers)
    assert refused(response, field), response.text
    assert (await app.client.get("/api/v1/runners/me", headers=headers)).status_code == 404


async def test_a_runner_update_with_a_version_beyond_its_column_is_400(app):
    headers, _ = await app.register()
    for version in (INT32_MAX + 1, 2**63, -(2**31) - 1):
        response = await app.client.put("/api/v1/runners/me", headers=headers,
                                        json={"vehicle_model": "Myvi", "version": version})
        assert refused(response, "version"), response.text


@pytest.mark.parametrize("url", HOSTILE_URLS)
async def test_a_pet_shop_image_url_that_is_not_http_is_400(app, url):
    headers = app.headers("shop")
    created = await app.client.post("/api/v1/petshops", json=SHOP | {"image_url": url},
                                    headers=headers)
    assert refused(created, "image_url"), created.text
    shop = (await app.client.post("/api/v1/petshops", json=SHOP, headers=headers)).json()["data"]
    updated = await app.client.put(f"/api/v1/petshops/{shop['id']}", headers=headers,
                                   json={"image_url": url})
    assert refused(updated, "image_url"), updated.text


@pytest.mark.parametrize(("url", "stored"), [
    ("https://cdn.example/shop.jpg", "https://cdn.example/shop.jpg"), ("", None),
])
async def test_a_pet_shop_keeps_an_http_image_url_and_treats_empty_as_none(app, url, stored):
    response = await app.client.post("/api/v1/petshops", json=SHOP | {"image_url": url},
                                     headers=app.headers("shop"))
    assert response.status_code == 201, response.text
    assert response.json()["data"].get("image_url") == stored
