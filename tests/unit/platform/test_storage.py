"""platform/storage.py: the local adapter and the choice of adapter by settings."""

import pytest

from kilat.platform.settings import Settings
from kilat.platform.storage import (
    BlobNotFound,
    InvalidBlobKey,
    LocalStorage,
    S3Storage,
    StorageSettings,
    build_storage,
)


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "blobs", "/files")


async def test_put_returns_the_url_and_get_returns_bytes_and_type(storage, tmp_path):
    url = await storage.put("bookings/b1/photo.png", b"\x89PNG...", "image/png")
    assert url == "/files/bookings/b1/photo.png"
    assert await storage.get("bookings/b1/photo.png") == (b"\x89PNG...", "image/png")
    assert (tmp_path / "blobs" / "bookings" / "b1" / "photo.png").read_bytes() == b"\x89PNG..."


async def test_put_replaces_and_delete_removes_even_twice(storage):
    await storage.put("a.jpg", b"one", "image/jpeg")
    await storage.put("a.jpg", b"two", "image/webp")
    assert await storage.get("a.jpg") == (b"two", "image/webp")
    await storage.delete("a.jpg")
    await storage.delete("a.jpg")
    with pytest.raises(BlobNotFound):
        await storage.get("a.jpg")


@pytest.mark.parametrize("key", [
    "../etc/passwd", "a/../../b", "/abs", "", "a//b", ".hidden", "a/b c", "a.type", "x" * 600,
])
async def test_unsafe_keys_are_refused_before_any_io(storage, key, tmp_path):
    with pytest.raises(InvalidBlobKey):
        await storage.put(key, b"x", "image/png")
    with pytest.raises(InvalidBlobKey):
        await storage.get(key)
    assert not (tmp_path / "blobs").exists()


def test_local_adapter_by_default_under_the_data_dir(tmp_path):
    chosen = build_storage(Settings(data_dir=tmp_path), base_url="/f", storage=StorageSettings())
    assert isinstance(chosen, LocalStorage)
    assert chosen.root == tmp_path / "blobs"


def test_s3_adapter_when_a_bucket_is_configured(tmp_path):
    config = StorageSettings(s3_bucket="kilat", s3_endpoint_url="http://127.0.0.1:9000")
    chosen = build_storage(Settings(data_dir=tmp_path), base_url="/f", storage=config)
    assert isinstance(chosen, S3Storage)
    assert (chosen.bucket, chosen.base_url) == ("kilat", "/f")


def test_s3_backend_without_a_bucket_is_a_configuration_error(tmp_path):
    with pytest.raises(ValueError, match="KILAT_S3_BUCKET"):
        build_storage(Settings(data_dir=tmp_path), base_url="/f",
                      storage=StorageSettings(storage_backend="s3"))
