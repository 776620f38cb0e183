"""KILAT_MAX_BODY_BYTES at the gateway, in both profiles: an oversized body is refused with 413
in the envelope before it is read, whether its length is declared or it streams in chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.service.gateway.support import (
    client_for,
    fake_service,
    gateway_over,
    gateway_settings,
    serving,
)

LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
TOO_LARGE = {"success": False, "error": "request body too large",
             "detail": f"the limit is {LIMIT} bytes"}


async def chunks(total: int, size: int = 16384) -> AsyncIterator[bytes]:
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


@asynccontextmanager
async def embedded_gateway(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The service apps in process, with no limit of their own: only the gateway's counts."""
    settings = gateway_settings(tmp_path, max_body_bytes=LIMIT, max_upload_bytes=UPLOAD_LIMIT)
    async with client_for(gateway_over(settings, {"booking": fake_service("booking")})) as client:
        yield client


@asynccontextmanager
async def distributed_gateway(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    settings = gateway_settings(tmp_path, max_body_bytes=LIMIT, max_upload_bytes=UPLOAD_LIMIT)
    async with serving(fake_service("booking")) as service_url, \
            serving(gateway_over(settings, {"booking": service_url})) as url, \
            httpx.AsyncClient(base_url=url) as client:
        yield client


PROFILES = {"embedded": embedded_gateway, "distributed": distributed_gateway}


@pytest.fixture(params=list(PROFILES))
async def gateway(request, tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    async with PROFILES[request.param](tmp_path) as client:
        yield client


async def test_a_declared_oversized_body_is_413_with_the_gateway_headers(gateway):
    response = await gateway.post("/api/v1/bookings", content=b"x" * (LIMIT + 1),
                                  headers={"Content-Type": "application/json",
                                           "X-Request-ID": "rid-413"})
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    assert response.headers["x-request-id"] == "rid-413"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_chunked_oversized_body_is_413(gateway):
    response = await gateway.post("/api/v1/bookings", content=chunks(LIMIT * 4))
    assert response.status_code == 413
    assert response.json() == TOO_LARGE
    after = await gateway.get("/api/v1/bookings")
    assert after.status_code == 200


async def test_bodies_within_the_limit_reach_the_service(gateway):
    plain = await gateway.post("/api/v1/bookings", content=b"x" * LIMIT)
    chunked = await gateway.put("/api/v1/bookings/1", content=chunks(LIMIT))
    upload = await gateway.post("/api/v1/bookings/1/photos/upload", files={
        "file": ("photo.jpg", b"x" * (UPLOAD_LIMIT - 1024), "image/jpeg")})
    assert [r.status_code for r in (plain, chunked, upload)] == [200, 200, 200]
    assert len(plain.json()["body"]) == LIMIT and len(chunked.json()["body"]) == LIMIT


async def test_an_upload_over_its_own_limit_is_413(gateway):
    response = await gateway.post("/api/v1/bookings/1/photos/upload", files={
        "file": ("photo.jpg", b"x" * UPLOAD_LIMIT, "image/jpeg")})
    assert response.status_code == 413
    assert response.json()["detail"] == f"the limit is {UPLOAD_LIMIT} bytes"


async def test_a_cors_preflight_and_a_bodiless_request_are_untouched(gateway):
    preflight = await gateway.options("/api/v1/bookings", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
