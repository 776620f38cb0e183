"""What every client meets at the gateway, in both profiles: request ids, envelopes, headers."""

from __future__ import annotations

import uuid

import httpx

from tests.e2e.platform import Platform


def test_the_request_id_travels_to_the_service_and_back(platform: Platform):
    request_id = f"e2e-{uuid.uuid4().hex}"
    response = httpx.get(f"{platform.url}/api/v1/subscriptions/plans",
                         headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id
    assert response.headers["x-content-type-options"] == "nosniff"
    generated = httpx.get(f"{platform.url}/api/v1/subscriptions/plans").headers["x-request-id"]
    assert generated and generated != request_id


def test_errors_keep_the_envelope_through_the_gateway(platform: Platform):
    unknown = httpx.get(f"{platform.url}/api/v1/nowhere")
    assert unknown.status_code == 404
    assert unknown.json()["success"] is False
    unauthenticated = httpx.get(f"{platform.url}/api/v1/bookings")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json() == {"success": False, "error": "authorization header is required",
                                      "detail": ""}
    invalid = httpx.post(f"{platform.url}/api/v1/auth/register", json={"email": "not-an-email"})
    assert invalid.status_code == 400 and invalid.json()["success"] is False
