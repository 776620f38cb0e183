"""Blob storage port: a local folder (embedded) or an S3-compatible store (distributed).

Settings (environment, prefix ``KILAT_``; read here because ``Settings`` is shared by every
command): ``STORAGE_BACKEND`` (``local`` or ``s3``; default ``s3`` when ``S3_BUCKET`` is set, else
``local``), ``S3_BUCKET``, ``S3_ENDPOINT_URL`` (MinIO, Ceph, moto...; empty for AWS),
``S3_REGION``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``, ``S3_PUBLIC_URL`` (a public base URL
for objects; when empty the owning service serves blobs itself). Local blobs live in
``<data_dir>/blobs``.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Literal, Protocol

from botocore.exceptions import ClientError
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilat.platform.settings import Settings

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)*$")
MAX_KEY_LENGTH = 512


class BlobNotFound(LookupError):
    """No blob is stored under the key."""


class InvalidBlobKey(ValueError):
    """The key is not a safe relative path of letters, digits, ``_ . -`` and ``/``."""


def check_key(key: str) -> str:
    if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(key) or ".." in key.split("/"):
        raise InvalidBlobKey(f"invalid blob key: {key!r}")
    return key


class BlobStorage(Protocol):
    """Contract every blob adapter keeps.

    - Keys are relative paths checked by ``check_key``; an invalid key MUST raise ``InvalidBlobKey``
      before any I/O.
    - ``put`` MUST store ``data`` and its content type under ``key``, replacing any previous blob,
      and MUST return the URL the blob is served from; once it returns, ``get`` MUST see the blob.
    - ``get`` MUST return ``(data, content_type)`` exactly as put, or raise ``BlobNotFound``.
    - ``delete`` MUST remove the blob; deleting a missing key MUST succeed.
    - ``close`` releases connections; the adapter MAY reopen them on a later call.
    """

    async def put(self, key: str, data: bytes, content_type: str) -> str: ...

    async def get(self, key: str) -> tuple[bytes, str]: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


def join_url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/{key}"


class LocalStorage:
    """Blobs as files under ``root``; the content type sits beside each file in ``<name>.type``."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url

    def _path(self, key: str) -> Path:
        if key.endswith(".type"):
            raise InvalidBlobKey(f"invalid blob key: {key!r}")
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self._path(key)
        await asyncio.to_thread(_write_blob, path, data, content_type)
        return join_url(self.base_url, key)

    async def get(self, key: str) -> tuple[bytes, str]:
        path = self._path(key)
        try:
            return await asyncio.to_thread(_read_blob, path)
        except FileNotFoundError as exc:
            raise BlobNotFound(key) from exc

    async def delete(self, key: str) -> None:
        path = self._path(key)
        for file in (path, _type_path(path)):
            file.unlink(missing_ok=True)

    async def close(self) -> None:
        return None


def _type_path(path: Path) -> Path:
    return path.with_name(path.name + ".type")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_blob(path: Path, data: bytes, content_type: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(_type_path(path), content_type.encode())
    _atomic_write(path, data)


def _read_blob(path: Path) -> tuple[bytes, str]:
    data = path.read_bytes()
    type_file = _type_path(path)
    content_type = type_file.read_text() if type_file.exists() else "application/octet-stream"
    return data, content_type


class S3Storage:
    """Blobs as objects in one bucket of an S3-compatible store (SigV4, path-style addressing)."""

    def __init__(
        self, *, bucket: str, base_url: str, endpoint_url: str | None = None,
        region: str = "us-east-1", access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.base_url = base_url
        self._client_args = {
            "endpoint_url": endpoint_url or None,
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._stack: AsyncExitStack | None = None
        self._client = None
        self._lock = asyncio.Lock()

    async def _s3(self):
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                from aiobotocore.config import AioConfig
                from aiobotocore.session import get_session

                config = AioConfig(signature_version="s3v4", s3={"addressing_style": "path"},
                                   retries={"max_attempts": 3, "mode": "standard"})
                stack = AsyncExitStack()
                self._client = await stack.enter_async_context(
                    get_session().create_client("s3", config=config, **self._client_args)
                )
                self._stack = stack
        return self._client

    async def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (for development stores)."""
        client = await self._s3()
        try:
            await client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            region = self._client_args["region_name"]
            extra = {} if region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": region}}
            await client.create_bucket(Bucket=self.bucket, **extra)

    async def put(self, key: str, data: bytes, content_type: str) -> str:
        check_key(key)
        client = await self._s3()
        await client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return join_url(self.base_url, key)

    async def get(self, key: str) -> tuple[bytes, str]:
        check_key(key)
        client = await self._s3()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                raise BlobNotFound(key) from exc
            raise
        async with response["Body"] as body:
            data = await body.read()
        return data, response.get("ContentType") or "application/octet-stream"

    async def delete(self, key: str) -> None:
        check_key(key)
        client = await self._s3()
        await client.delete_object(Bucket=self.bucket, Key=key)

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_", env_file=".env", extra="ignore")

    storage_backend: Literal["local", "s3"] | None = None
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_public_url: str = ""

    @property
    def backend(self) -> str:
        return self.storage_backend or ("s3" if self.s3_bucket else "local")


def build_storage(settings: Settings, *, base_url: str,
                  storage: StorageSettings | None = None) -> BlobStorage:
    """The configured adapter; ``base_url`` is where the calling service serves blobs back."""
    storage = storage or StorageSettings()
    if storage.backend == "local":
        return LocalStorage(settings.data_dir / "blobs", base_url)
    if not storage.s3_bucket:
        raise ValueError("KILAT_STORAGE_BACKEND=s3 needs KILAT_S3_BUCKET")
    return S3Storage(
        bucket=storage.s3_bucket,
        base_url=storage.s3_public_url or base_url,
        endpoint_url=storage.s3_endpoint_url or None,
        region=storage.s3_region,
        access_key_id=storage.s3_access_key_id or None,
        secret_access_key=storage.s3_secret_access_key.get_secret_value() or None,
    )
