"""A new user's first minutes: health, docs, and the account lifecycle through the gateway."""

import uuid

import httpx


def test_health_lists_every_service_as_healthy(platform_url):
    response = httpx.get(f"{platform_url}/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy" and body["service"] == "api-gateway"
    assert body["services"]["service-identity"] == "healthy"
    assert all(state == "healthy" for state in body["services"].values())


def test_docs_and_openapi_are_served(platform_url):
    assert httpx.get(f"{platform_url}/docs").status_code == 200
    # the first request merges every service's document, which takes seconds on a busy machine
    paths = httpx.get(f"{platform_url}/openapi.json", timeout=60).json()["paths"]
    assert "/api/v1/auth/register" in paths


def test_register_login_profile_refresh_logout_through_the_gateway(platform_url):
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    with httpx.Client(base_url=platform_url, timeout=10) as client:
        registered = client.post("/api/v1/auth/register", json={
            "email": email, "password": "correct-horse", "full_name": "E2E Owner", "role": "owner"})
        assert registered.status_code == 201, registered.text
        login = client.post("/api/v1/auth/login", json={"email": email, "password": "correct-horse"})
        assert login.status_code == 200
        tokens = login.json()["data"]
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        profile = client.get("/api/v1/auth/profile", headers=bearer)
        assert profile.json()["data"]["email"] == email
        refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200
        new_tokens = refreshed.json()["data"]
        assert client.post("/api/v1/auth/refresh",
                           json={"refresh_token": tokens["refresh_token"]}).status_code == 401
        assert client.post("/api/v1/auth/refresh", json={
            "refresh_token": new_tokens["refresh_token"]}).status_code == 401, "family revoked"

        again = client.post("/api/v1/auth/login",
                            json={"email": email, "password": "correct-horse"}).json()["data"]
        logout = client.post("/api/v1/auth/logout",
                             headers={"Authorization": f"Bearer {again['access_token']}"},
                             json={"refresh_token": again["refresh_token"]})
        assert logout.status_code == 200
        assert client.post("/api/v1/auth/refresh",
                           json={"refresh_token": again["refresh_token"]}).status_code == 401
