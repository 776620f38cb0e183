"""Photos: by URL (JSON) and by multipart upload through the storage port, served back by URL."""

import uuid

import pytest

from kilat.services.booking.settings import BookingSettings
from tests.service.booking.support import JPEG, PNG, WEBP, booking_at, create_booking


def _upload(client, booking_id: str, person, data: bytes, *, photo_type="pickup",
            filename="photo.jpg", content_type="image/jpeg", caption=None):
    fields = {"photo_type": photo_type} | ({"caption": caption} if caption is not None else {})
    return client.post(f"/api/v1/bookings/{booking_id}/photos/upload", headers=person.headers,
                       data=fields, files={"file": (filename, data, content_type)})


async def test_runner_records_a_photo_by_url(client, people):
    booking = await booking_at(client, people, "accepted")
    response = await client.post(
        f"/api/v1/bookings/{booking['id']}/photo", headers=people.runner.headers,
        json={"photo_type": "pickup", "photo_url": "https://cdn.example/p.jpg",
              "caption": "Rex in his crate"})
    assert response.status_code == 201
    photo = response.json()["data"]
    assert photo["booking_id"] == booking["id"] and photo["runner_id"] == people.runner.id
    assert photo["uploaded_by"] == people.runner.id and photo["uploaded_by_role"] == "runner"
    assert (photo["photo_type"], photo["photo_url"], photo["caption"]) == (
        "pickup", "https://cdn.example/p.jpg", "Rex in his crate")
    assert photo["taken_at"] and photo["created_at"]


@pytest.mark.parametrize("body", [
    {"photo_type": "selfie", "photo_url": "https://cdn.example/p.jpg"},
    {"photo_type": "pickup", "photo_url": "not a url"},
    {"photo_type": "pickup", "photo_url": "javascript:alert(1)"},
    {"photo_type": "pickup"},
])
async def test_invalid_photo_body_is_400(client, people, body):
    booking = await booking_at(client, people, "accepted")
    response = await client.post(f"/api/v1/bookings/{booking['id']}/photo",
                                 headers=people.runner.headers, json=body)
    assert response.status_code == 400


@pytest.mark.parametrize(("data", "content_type", "ext"), [
    (JPEG, "image/jpeg", "jpg"), (PNG, "image/png", "png"), (WEBP, "image/webp", "webp"),
])
async def test_upload_stores_the_image_and_serves_it_back_at_its_url(client, people, data,
                                                                     content_type, ext):
    booking = await booking_at(client, people, "in_progress")
    response = await _upload(client, booking["id"], people.runner, data, photo_type="delivery",
                             filename="x.bin", content_type="application/octet-stream",
                             caption="at the door")
    assert response.status_code == 201, response.text
    photo = response.json()["data"]
    assert photo["content_type"] == content_type and photo["size_bytes"] == len(data)
    assert photo["photo_type"] == "delivery" and photo["caption"] == "at the door"
    assert photo["photo_url"].startswith(f"/api/v1/bookings/photos/files/bookings/{booking['id']}/")
    assert photo["photo_url"].endswith(f".{ext}")
    served = await client.get(photo["photo_url"])  # public: an <img> tag sends no token
    assert served.status_code == 200
    assert served.content == data and served.headers["content-type"] == content_type
    listed = await client.get(f"/api/v1/bookings/{booking['id']}/photos",
                              headers=people.owner.headers)
    assert [p["id"] for p in listed.json()["data"]] == [photo["id"]]


async def test_upload_type_is_judged_by_bytes_not_by_the_claimed_content_type(client, people):
    booking = await booking_at(client, people, "accepted")
    response = await _upload(client, booking["id"], people.runner, b"GIF89a" + bytes(20),
                             filename="p.jpg", content_type="image/jpeg")
    assert response.status_code == 400 and response.json()["error"] == "unsupported image type"
    empty = await _upload(client, booking["id"], people.runner, b"")
    assert empty.status_code == 400
    listed = await client.get(f"/api/v1/bookings/{booking['id']}/photos",
                              headers=people.owner.headers)
    assert listed.json()["data"] == []


async def test_upload_over_the_size_limit_is_413(client, people, runtime):
    runtime.context.settings = BookingSettings(photo_max_bytes=1024)
    booking = await booking_at(client, people, "accepted")
    too_big = await _upload(client, booking["id"], people.runner, JPEG + bytes(1024))
    declared = await client.post(
        f"/api/v1/bookings/{booking['id']}/photos/upload", headers=people.runner.headers | {
            "Content-Type": "multipart/form-data; boundary=x"}, content=b"x" * (200 * 1024))
    just_fits = await _upload(client, booking["id"], people.runner, JPEG + bytes(1024 - len(JPEG)))
    assert (too_big.status_code, declared.status_code, just_fits.status_code) == (413, 413, 201)
    assert too_big.json()["error"] == "photo is too large"


async def test_upload_with_missing_file_or_bad_photo_type_is_400(client, people):
    booking = await booking_at(client, people, "accepted")
    no_file = await client.post(f"/api/v1/bookings/{booking['id']}/photos/upload",
                                headers=people.runner.headers, data={"photo_type": "pickup"})
    bad_type = await _upload(client, booking["id"], people.runner, JPEG, photo_type="selfie")
    assert (no_file.status_code, bad_type.status_code) == (400, 400)


async def test_owner_may_add_photos_but_strangers_may_neither_add_nor_see_them(client, people):
    booking = await booking_at(client, people, "accepted")
    by_owner = await _upload(client, booking["id"], people.owner, PNG)
    assert by_owner.status_code == 201
    assert "runner_id" not in by_owner.json()["data"]
    assert by_owner.json()["data"]["uploaded_by_role"] == "owner"
    stranger_upload = await _upload(client, booking["id"], people.runner2, PNG)
    stranger_url = await client.post(f"/api/v1/bookings/{booking['id']}/photo",
                                      headers=people.other_owner.headers,
                                      json={"photo_type": "pickup", "photo_url": "https://x.y/z"})
    stranger_list = await client.get(f"/api/v1/bookings/{booking['id']}/photos",
                                     headers=people.other_owner.headers)
    assert (stranger_upload.status_code, stranger_url.status_code,
            stranger_list.status_code) == (403, 403, 403)


async def test_photos_of_an_unknown_booking_are_404(client, people):
    unknown = str(uuid.uuid4())
    listed = await client.get(f"/api/v1/bookings/{unknown}/photos", headers=people.owner.headers)
    uploaded = await _upload(client, unknown, people.owner, PNG)
    assert (listed.status_code, uploaded.status_code) == (404, 404)


async def test_photos_are_listed_oldest_first(client, people):
    booking = await booking_at(client, people, "in_progress")
    ids = []
    for kind in ("pickup", "delivery"):
        response = await client.post(f"/api/v1/bookings/{booking['id']}/photo",
                                     headers=people.runner.headers,
                                     json={"photo_type": kind, "photo_url": f"https://x.y/{kind}"})
        ids.append(response.json()["data"]["id"])
    listed = await client.get(f"/api/v1/bookings/{booking['id']}/photos",
                              headers=people.runner.headers)
    assert [p["id"] for p in listed.json()["data"]] == ids


@pytest.mark.parametrize("key", ["bookings/nope.jpg", "other/x.jpg", "../../etc/passwd",
                                 "bookings/../keys/jwt-ed25519.pem"])
async def test_unknown_or_unsafe_file_keys_are_404(client, key):
    response = await client.get(f"/api/v1/bookings/photos/files/{key}")
    assert response.status_code == 404 and response.json()["success"] is False


async def test_uploads_land_in_the_data_dir_blobs_folder(client, people, infra):
    booking = await create_booking(client, people.owner)
    photo = (await _upload(client, booking["id"], people.owner, JPEG)).json()["data"]
    key = photo["photo_url"].removeprefix("/api/v1/bookings/photos/files/")
    assert (infra.settings.data_dir / "blobs" / key).read_bytes() == JPEG


@pytest.mark.parametrize("caption", ["Rex\x00", "Rex\x1b[31m"])
async def test_an_upload_caption_with_control_characters_is_400_and_nothing_is_stored(
        client, people, caption):
    booking = await booking_at(client, people, "in_progress")
    response = await _upload(client, booking["id"], people.runner, JPEG, caption=caption)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "caption: must be valid text of at most 500 characters"
    photos = await client.get(f"/api/v1/bookings/{booking['id']}/photos",
                              headers=people.owner.headers)
    assert photos.json()["data"] == []
