"""The S3 adapter of the blob storage port against a real S3-compatible server (moto's)."""

import uuid

import pytest
from moto.server import ThreadedMotoServer

from kilat.platform.storage import BlobNotFound, InvalidBlobKey, S3Storage
from kilat.services.booking import descriptor
from tests.service.booking.support import JPEG, create_booking
from tests.support.people import People
from tests.support.harness import running_service


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
async def s3(s3_endpoint):
    storage = S3Storage(bucket=f"kilat-{uuid.uuid4().hex[:12]}", base_url="/files",
                        endpoint_url=s3_endpoint, access_key_id="test", secret_access_key="test")
    await storage.ensure_bucket()
    try:
        yield storage
    finally:
        await storage.close()


async def test_put_get_replace_delete_round_trip(s3):
    url = await s3.put("bookings/b1/p.jpg", JPEG, "image/jpeg")
    assert url == "/files/bookings/b1/p.jpg"
    assert await s3.get("bookings/b1/p.jpg") == (JPEG, "image/jpeg")
    await s3.put("bookings/b1/p.jpg", b"\x89PNG\r\n\x1a\n", "image/png")
    assert await s3.get("bookings/b1/p.jpg") == (b"\x89PNG\r\n\x1a\n", "image/png")
    await s3.delete("bookings/b1/p.jpg")
    await s3.delete("bookings/b1/p.jpg")
    with pytest.raises(BlobNotFound):
        await s3.get("bookings/b1/p.jpg")


async def test_invalid_keys_are_refused_and_bucket_creation_is_idempotent(s3):
    with pytest.raises(InvalidBlobKey):
        await s3.put("../escape", b"x", "image/png")
    await s3.ensure_bucket()
    await s3.close()
    await s3.put("again.png", b"x", "image/png")  # reopens its client after close
    assert await s3.get("again.png") == (b"x", "image/png")


async def test_booking_service_stores_uploads_in_s3_when_configured(infra, s3_endpoint,
                                                                    monkeypatch):
    bucket = f"kilat-{uuid.uuid4().hex[:12]}"
    for name, value in {"S3_BUCKET": bucket, "S3_ENDPOINT_URL": s3_endpoint,
                        "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test"}.items():
        monkeypatch.setenv(f"KILAT_{name}", value)
    direct = S3Storage(bucket=bucket, base_url="/", endpoint_url=s3_endpoint,
                       access_key_id="test", secret_access_key="test")
    await direct.ensure_bucket()
    people = People(infra)
    async with running_service(descriptor, infra) as (runtime, client):
        assert isinstance(runtime.context.storage, S3Storage)
        booking = await create_booking(client, people.owner)
        response = await client.post(
            f"/api/v1/bookings/{booking['id']}/photos/upload", headers=people.owner.headers,
            data={"photo_type": "pickup"}, files={"file": ("p.jpg", JPEG, "image/jpeg")})
        assert response.status_code == 201, response.text
        url = response.json()["data"]["photo_url"]
        served = await client.get(url)
        assert served.status_code == 200 and served.content == JPEG
    key = url.removeprefix("/api/v1/bookings/photos/files/")
    assert await direct.get(key) == (JPEG, "image/jpeg")
    assert not (infra.settings.data_dir / "blobs").exists()
    await direct.close()
