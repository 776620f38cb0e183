"""The kernel's request guard on a real server: an oversized body is refused with 413 before it
is read, and an unhandled error answers 500 without costing the keep-alive connection."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, Request

from kilat.platform.runtime import ServiceRuntime, create_service_app
from tests.service.gateway.support import serving
from tests.support.harness import auth_headers
from tests.support.notes import descriptor as notes

LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024

probe = APIRouter(prefix="/api/v1/notes/probe")


@probe.get("/boom")
async def boom() -> dict:
    raise RuntimeError("a bug nobody caught")


@probe.post("/read")
async def read(request: Request) -> dict:
    return {"read": len(await request.body())}


@asynccontextmanager
async def served_notes(infra) -> AsyncIterator[str]:
    infra.settings = infra.settings.model_copy(
        update={"max_body_bytes": LIMIT, "max_upload_bytes": UPLOAD_LIMIT})
    descriptor = dataclasses.replace(notes, routers=[*notes.routers, probe])
    runtime = ServiceRuntime(descriptor, infra)
    await runtime.start()
    try:
        async with serving(create_service_app(runtime)) as url:
            yield url
    finally:
        await runtime.stop()


async def exchange(writer, reader, path: str) -> tuple[int, bytes]:
    """One GET on an open connection: (status, body)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: notes\r\n\r\n".encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith(
        "content-length:"))
    return int(lines[0].split()[1]), await reader.readexactly(length)


async def test_an_unhandled_error_is_500_and_the_connection_serves_the_next_request(infra):
    async with served_notes(infra) as url:
        reader, writer = await asyncio.open_connection(*url.removeprefix("http://").split(":"))
        try:
            failed = await exchange(writer, reader, "/api/v1/notes/probe/boom")
            await asyncio.sleep(0.2)  # the server had closed the connection by now
            after = await exchange(writer, reader, "/health")
        finally:
            writer.close()
    assert failed == (500, b'{"success":false,"error":"internal server error","detail":""}')
    assert after[0] == 200


async def test_a_declared_oversized_body_is_413_without_being_read(infra):
    async with served_notes(infra) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/notes", content=b"x" * (LIMIT + 1),
                                     headers=auth_headers(infra, "owner")
                                     | {"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"success": False, "error": "request body too large",
                               "detail": f"the limit is {LIMIT} bytes"}
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_chunked_oversized_body_is_413_and_the_connection_stays_usable(infra):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(256):  # 4 MiB, no Content-Length
            yield b"x" * 16384

    async with served_notes(infra) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/notes/probe/read", content=chunks())
        after = await client.get("/health")
    assert response.status_code == 413
    assert response.json()["error"] == "request body too large"
    assert after.status_code == 200


async def test_bodies_within_the_limit_are_read(infra):
    async with served_notes(infra) as url, httpx.AsyncClient(base_url=url) as client:
        plain = await client.post("/api/v1/notes/probe/read", content=b"x" * LIMIT)
        upload = await client.post("/api/v1/notes/probe/read", files={
            "file": ("photo.jpg", b"x" * (UPLOAD_LIMIT - 1024), "image/jpeg")})
        too_big_upload = await client.post("/api/v1/notes/probe/read", files={
            "file": ("photo.jpg", b"x" * UPLOAD_LIMIT, "image/jpeg")})
    assert plain.json() == {"read": LIMIT}
    assert upload.status_code == 200
    assert too_big_upload.status_code == 413
