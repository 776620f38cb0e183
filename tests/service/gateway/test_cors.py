"""CORS: the configured browser origins may call the API, others may not."""

import pytest

from tests.service.gateway.support import client_for, fake_service, gateway_over, gateway_settings

PREFLIGHT = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}


@pytest.fixture
async def gateway(tmp_path):
    app = gateway_over(gateway_settings(tmp_path), {"booking": fake_service("booking")})
    async with client_for(app) as client:
        yield client


async def test_preflight_from_a_configured_origin_is_allowed_with_credentials(gateway):
    response = await gateway.options("/api/v1/bookings",
                                     headers={"Origin": "http://localhost:3000"} | PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["access-control-max-age"] == "43200"
    assert "PATCH" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "idempotency-key", "x-request-id"} <= set(allowed.split(", "))


async def test_preflight_from_an_unknown_origin_is_refused(gateway):
    response = await gateway.options("/api/v1/bookings",
                                     headers={"Origin": "http://evil.example"} | PREFLIGHT)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_forwarded_response_carries_cors_headers_for_the_origin(gateway):
    response = await gateway.get("/api/v1/bookings", headers={"Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    evil = await gateway.get("/api/v1/bookings", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in evil.headers


async def test_origins_come_from_settings(tmp_path):
    settings = gateway_settings(tmp_path, cors_origins=["https://app.kilat.example"])
    app = gateway_over(settings, {"booking": fake_service("booking")})
    async with client_for(app) as client:
        ok = await client.options("/api/v1/bookings",
                                  headers={"Origin": "https://app.kilat.example"} | PREFLIGHT)
        local = await client.options("/api/v1/bookings",
                                     headers={"Origin": "http://localhost:3000"} | PREFLIGHT)
    assert (ok.status_code, local.status_code) == (200, 400)


async def test_requests_without_origin_skip_cors_but_still_vary_on_origin(gateway):
    response = await gateway.get("/api/v1/bookings")
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"
