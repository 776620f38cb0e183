"""Registration, login and profile over HTTP."""

import uuid

import pytest

from tests.service.identity.support import login, recorded_events
from tests.support.harness import auth_headers
from tests.support.people import PASSWORD, bearer, new_email, registration, register, sign_up


async def test_register_returns_201_with_tokens_and_user_and_records_event(identity):
    runtime, client = identity
    email = new_email("Ana")
    response = await client.post("/api/v1/auth/register", json=registration(
        email=f"  {email.upper()} ", phone="+60123456789", full_name="Ana Owner"))
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["access_token"] and data["refresh_token"]
    user = data["user"]
    assert user["email"] == email.lower()
    assert user["role"] == "owner" and user["phone"] == "+60123456789"
    assert user["is_verified"] is False and user["is_banned"] is False
    assert "avatar_url" not in user and "password_hash" not in user
    claims = runtime.verifier.decode(data["access_token"], "access")
    assert claims["user_id"] == user["id"] and claims["role"] == "owner"
    events = await recorded_events(runtime, "identity.user_registered")
    assert events == [{"user_id": user["id"], "email": email.lower(), "full_name": "Ana Owner",
                       "phone": "+60123456789", "role": "owner", "referral_code_used": None}]


@pytest.mark.parametrize("role", ["owner", "runner", "shop"])
async def test_each_public_role_can_register(identity, role):
    _, client = identity
    assert (await sign_up(client, role=role))["user"]["role"] == role


async def test_register_without_phone_gives_empty_phone(identity):
    _, client = identity
    assert (await sign_up(client))["user"]["phone"] == ""


async def test_duplicate_email_is_409_whatever_its_case(identity):
    _, client = identity
    email = new_email()
    await sign_up(client, email=email)
    response = await client.post("/api/v1/auth/register", json=registration(email=email.upper()))
    assert response.status_code == 409
    assert response.json()["error"] == f"User with email '{email}' already exists"


async def test_admin_cannot_self_register(identity):
    runtime, client = identity
    response = await client.post("/api/v1/auth/register", json=registration(role="admin"))
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert await recorded_events(runtime, "identity.user_registered") == []


@pytest.mark.parametrize(("overrides", "error"), [
    ({"password": "short7!"}, "password must be at least 8 characters"),
    ({"password": "é" * 40}, "password must be at most 72 bytes"),
    ({"email": "not-an-email"}, "invalid email format"),
    ({"email": "a@b"}, "invalid email format"),
    ({"phone": "12-34"}, "invalid phone number format"),
    ({"phone": "+6012345678901234"}, "invalid phone number format"),
])
async def test_invalid_registration_is_400_and_creates_nothing(identity, overrides, error):
    runtime, client = identity
    response = await client.post("/api/v1/auth/register", json=registration(**overrides))
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": error, "detail": response.json()["detail"]}
    assert await recorded_events(runtime, "identity.user_registered") == []


@pytest.mark.parametrize("overrides", [
    {"role": "superuser"}, {"full_name": "   "}, {"email": None}, {"full_name": "nul\x00byte"},
])
async def test_malformed_registration_is_400(identity, overrides):
    _, client = identity
    response = await client.post("/api/v1/auth/register", json=registration(**overrides))
    assert response.status_code == 400
    assert response.json()["success"] is False


async def test_login_returns_tokens_for_the_right_password(identity):
    runtime, client = identity
    registered = await sign_up(client)
    email = registered["user"]["email"]
    data = await login(client, f" {email.upper()} ")
    assert data["user"]["id"] == registered["user"]["id"]
    assert runtime.verifier.decode(data["refresh_token"], "refresh")["user_id"] == data["user"]["id"]


async def test_wrong_password_and_unknown_email_give_the_same_401(identity):
    _, client = identity
    email = (await sign_up(client))["user"]["email"]
    wrong = await client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-pass"})
    unknown = await client.post("/api/v1/auth/login",
                                json={"email": new_email(), "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {
        "success": False, "error": "invalid email or password", "detail": ""}


async def test_profile_returns_the_caller(identity):
    _, client = identity
    registered = await sign_up(client, full_name="Ben Runner", role="runner")
    response = await client.get("/api/v1/auth/profile", headers=bearer(registered["access_token"]))
    assert response.status_code == 200
    assert response.json()["data"] == registered["user"]


async def test_profile_needs_a_token_and_an_existing_account(identity, infra):
    _, client = identity
    assert (await client.get("/api/v1/auth/profile")).status_code == 401
    ghost = await client.get("/api/v1/auth/profile", headers=auth_headers(infra, "owner"))
    assert ghost.status_code == 404


async def test_profile_update_is_partial_and_records_event(identity):
    runtime, client = identity
    registered = await sign_up(client, full_name="Cara", phone="0123456789")
    headers = bearer(registered["access_token"])
    response = await client.put("/api/v1/auth/profile", headers=headers,
                                json={"full_name": "", "avatar_url": "https://cdn.example.com/c.png"})
    assert response.status_code == 200
    user = response.json()["data"]
    assert user["full_name"] == "Cara" and user["phone"] == "0123456789"
    assert user["avatar_url"] == "https://cdn.example.com/c.png"
    renamed = await client.put("/api/v1/auth/profile", headers=headers,
                               json={"full_name": "Cara Tan", "phone": "+60111111111"})
    assert renamed.json()["data"]["full_name"] == "Cara Tan"
    stored = (await client.get("/api/v1/auth/profile", headers=headers)).json()["data"]
    assert stored["phone"] == "+60111111111"
    events = await recorded_events(runtime, "identity.profile_updated")
    assert events[-1] == {"user_id": user["id"], "email": user["email"], "full_name": "Cara Tan",
                          "phone": "+60111111111"}
    assert len(events) == 2


async def test_profile_update_without_changes_records_no_event(identity):
    runtime, client = identity
    registered = await register(client)
    response = await client.put("/api/v1/auth/profile", headers=registered.headers,
                                json={})
    assert response.status_code == 200
    assert await recorded_events(runtime, "identity.profile_updated") == []


@pytest.mark.parametrize("body", [{"phone": "abc"}, {"avatar_url": "javascript:alert(1)"}])
async def test_invalid_profile_update_is_400_and_changes_nothing(identity, body):
    _, client = identity
    registered = await sign_up(client)
    headers = bearer(registered["access_token"])
    response = await client.put("/api/v1/auth/profile", headers=headers,
                                json={"full_name": "Changed"} | body)
    assert response.status_code == 400
    profile = (await client.get("/api/v1/auth/profile", headers=headers)).json()["data"]
    assert profile == registered["user"]


async def test_unknown_user_id_in_token_cannot_update_profile(identity, infra):
    _, client = identity
    response = await client.put("/api/v1/auth/profile", json={"full_name": "x"},
                                headers=auth_headers(infra, "owner", user_id=uuid.uuid4()))
    assert response.status_code == 404
