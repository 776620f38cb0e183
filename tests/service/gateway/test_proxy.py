"""Distributed profile: the gateway proxies HTTP to services listening on real ports."""

import asyncio
import gzip
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.service.gateway.support import (
    closed_port,
    fake_service,
    gateway_over,
    gateway_settings,
    serving,
)


@pytest.fixture
async def upstream():
    app = fake_service("booking")
    async with serving(app) as url:
        yield app, url


@asynccontextmanager
async def gateway_client(tmp_path, url: str, timeout: float, **settings):
    app = gateway_over(gateway_settings(tmp_path, proxy_timeout_seconds=timeout, **settings),
                       {"booking": url, "tracking": url})
    async with serving(app) as gateway_url, httpx.AsyncClient(base_url=gateway_url) as client:
        yield client


@pytest.fixture
async def gateway(tmp_path, upstream):
    # generous: 200 requests at once must not time out on a loaded CI machine
    async with gateway_client(tmp_path, upstream[1], timeout=10.0) as client:
        yield client


async def test_method_path_query_body_and_status_are_forwarded(gateway):
    response = await gateway.put("/api/v1/bookings/42/cancel?reason=late%20runner&x=1",
                                 content=b'{"why":"late"}',
                                 headers={"Content-Type": "application/json",
                                          "X-Want-Status": "409"})
    assert response.status_code == 409
    echoed = response.json()
    assert echoed["method"] == "PUT"
    assert echoed["path"] == "/api/v1/bookings/42/cancel"
    assert echoed["query"] == "reason=late%20runner&x=1"
    assert echoed["body"] == '{"why":"late"}'


async def test_headers_are_forwarded_with_proxy_headers_and_without_hop_by_hop(gateway):
    gateway.headers.clear()
    response = await gateway.get("/api/v1/bookings", headers={
        "Authorization": "Bearer abc", "X-Request-ID": "rid-9", "Keep-Alive": "timeout=5",
        "Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "1"})
    seen = response.json()["headers"]
    assert seen["authorization"] == "Bearer abc"
    assert seen["x-request-id"] == "rid-9"
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"].startswith("127.0.0.1:")
    assert "keep-alive" not in seen and "x-drop-me" not in seen
    assert "accept-encoding" not in seen and "user-agent" not in seen  # none invented
    assert response.headers.get_list("x-request-id") == ["rid-9"]
    assert response.headers.get_list("x-frame-options") == ["DENY"]


async def test_request_id_is_generated_when_missing_and_reaches_the_service(gateway):
    response = await gateway.get("/api/v1/bookings")
    request_id = response.headers["x-request-id"]
    assert len(request_id) == 36
    assert response.json()["headers"]["x-request-id"] == request_id


async def test_response_is_streamed_not_buffered(gateway, upstream):
    app, _ = upstream
    async with gateway.stream("GET", "/api/v1/tracking/stream") as response:
        chunks = response.aiter_raw()
        first = await asyncio.wait_for(anext(chunks), timeout=3)
        app.state.release.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert first == b"first;"
    assert rest == b"second;"


async def test_large_request_body_is_streamed_through(tmp_path, upstream):
    body = b"x" * (3 * 1024 * 1024)
    async with gateway_client(tmp_path, upstream[1], timeout=10.0,
                              max_body_bytes=len(body)) as gateway:
        response = await gateway.post("/api/v1/bookings/upload", content=body)
    assert response.status_code == 200
    assert len(response.json()["body"]) == len(body)


async def test_slow_service_is_504(tmp_path, upstream):
    async with gateway_client(tmp_path, upstream[1], timeout=0.3) as gateway:  # slow takes 0.6 s
        response = await gateway.get("/api/v1/tracking/slow")
    assert response.status_code == 504
    assert response.json() == {"success": False, "error": "gateway timeout",
                               "detail": "tracking did not answer in time"}


async def test_closed_upstream_port_is_502_envelope(tmp_path):
    app = gateway_over(gateway_settings(tmp_path),
                       {"payment": f"http://127.0.0.1:{closed_port()}"})
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.post("/api/v1/payments/initiate", json={"booking_id": "b"},
                                     headers={"X-Request-ID": "rid-502"})
    assert response.status_code == 502
    assert response.json() == {"success": False, "error": "bad gateway",
                               "detail": "payment unavailable"}
    assert response.headers.get_list("x-request-id") == ["rid-502"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_cookie_one_caller_got_is_never_sent_for_another(gateway):
    first = await gateway.get("/api/v1/bookings/cookie")
    assert "secret-of-one-caller" in first.headers["set-cookie"]  # the caller gets it
    gateway.cookies.clear()
    seen = (await gateway.get("/api/v1/bookings")).json()["headers"]
    assert "cookie" not in seen  # the gateway kept nothing of it


async def test_compressed_bodies_and_redirects_reach_the_caller_untouched(gateway):
    async with gateway.stream("GET", "/api/v1/bookings/gzipped") as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b"compressed by the service"
    moved = await gateway.get("/api/v1/bookings/moved")
    assert moved.status_code == 302
    assert moved.headers["location"] == "/api/v1/bookings/elsewhere"


async def test_many_requests_in_flight_share_the_pooled_connections(gateway):
    responses = await asyncio.gather(*(gateway.get(f"/api/v1/bookings/{i}") for i in range(200)))
    assert [r.status_code for r in responses] == [200] * 200
    assert {r.json()["path"] for r in responses} == {f"/api/v1/bookings/{i}" for i in range(200)}
