"""Pet photos follow the kernel's one URL rule; path strings refuse control characters."""

import pytest

from tests.support import builders
from tests.support.builders import booking_body

HOSTILE_URLS = ["javascript:alert(1)", "JAVASCRIPT:alert(document.cookie)",
                "data:text/html,<script>alert(1)</script>", "file:///etc/passwd",
                "https://cdn.example/" + "a" * 2048]


@pytest.mark.parametrize("url", HOSTILE_URLS)
async def test_a_pet_photo_url_that_is_not_http_is_400(client, people, url):
    created = await client.post("/api/v1/pets", headers=people.owner.headers,
                                json=builders.pet(photo_url=url))
    assert created.status_code == 400 and created.json()["success"] is False
    assert "photo_url" in created.json()["error"]
    pet = await client.post("/api/v1/pets", headers=people.owner.headers, json=builders.pet())
    updated = await client.put(f"/api/v1/pets/{pet.json()['data']['id']}",
                               headers=people.owner.headers, json={"photo_url": url})
    assert updated.status_code == 400
    read = await client.get(f"/api/v1/pets/{pet.json()['data']['id']}", headers=people.owner.headers)
    assert "photo_url" not in read.json()["data"]


async def test_a_booking_pet_spec_photo_url_that_is_not_http_is_400(client, people):
    body = booking_body()
    body["pet_spec"]["photo_url"] = "javascript:alert(1)"
    response = await client.post("/api/v1/bookings", headers=people.owner.headers, json=body)
    assert response.status_code == 400 and "photo_url" in response.json()["error"]


@pytest.mark.parametrize(("url", "stored"), [
    ("https://cdn.example/milo.jpg", "https://cdn.example/milo.jpg"),
    ("/api/v1/bookings/photos/files/milo.jpg", "/api/v1/bookings/photos/files/milo.jpg"),
])
async def test_http_and_uploaded_photo_urls_are_kept(client, people, url, stored):
    response = await client.post("/api/v1/pets", headers=people.owner.headers,
                                 json=builders.pet(photo_url=url))
    assert response.status_code == 201 and response.json()["data"]["photo_url"] == stored


async def test_a_photo_file_key_with_a_nul_is_400(client, people):
    response = await client.get("/api/v1/bookings/photos/files/abc%00.jpg",
                                headers=people.owner.headers)
    assert response.status_code == 400
    assert response.json()["success"] is False and "NUL" in response.json()["error"]


async def test_a_status_filter_with_a_control_character_is_400(client, people):
    response = await client.get("/api/v1/bookings", headers=people.owner.headers,
                                params={"status": "requested\x01"})
    assert response.status_code == 400 and response.json()["success"] is False
