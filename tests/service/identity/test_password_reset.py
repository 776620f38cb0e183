"""Forgot and reset password: hashed single-use tokens with an expiry."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kilat.platform.models import utcnow
from kilat.services.identity.domain import token_digest
from kilat.services.identity.models import PasswordReset
from tests.service.identity.support import recorded_events
from tests.support.people import new_email, sign_up

NEW_PASSWORD = "battery-staple"


async def forgot(client, email: str):
    return await client.post("/api/v1/auth/forgot-password", json={"email": email})


async def reset(client, token: str, password: str = NEW_PASSWORD):
    return await client.post("/api/v1/auth/reset-password",
                             json={"token": token, "newPassword": password})


async def issued_token(runtime, client, email: str) -> str:
    assert (await forgot(client, email)).status_code == 202
    return (await recorded_events(runtime, "identity.password_reset_requested"))[-1]["token"]


async def test_forgot_password_for_a_known_email_is_202_and_records_the_token(identity):
    runtime, client = identity
    user = (await sign_up(client, full_name="Dee"))["user"]
    response = await forgot(client, user["email"].upper())
    assert response.status_code == 202 and response.content == b""
    [event] = await recorded_events(runtime, "identity.password_reset_requested")
    assert (event["user_id"], event["email"], event["full_name"]) == (user["id"], user["email"], "Dee")
    assert re.fullmatch(r"[0-9a-f]{64}", event["token"])
    async with runtime.database.session(write=False) as session:
        stored = (await session.scalars(select(PasswordReset))).one()
    assert stored.token_hash == token_digest(event["token"]) != event["token"]
    expected_expiry = utcnow() + timedelta(seconds=runtime.settings.password_reset_ttl_seconds)
    assert abs((stored.expires_at - expected_expiry).total_seconds()) < 5


async def test_forgot_password_for_an_unknown_email_is_the_same_202_with_no_token(identity):
    runtime, client = identity
    response = await forgot(client, new_email())
    assert response.status_code == 202 and response.content == b""
    assert await recorded_events(runtime, "identity.password_reset_requested") == []


async def test_forgot_password_with_a_malformed_email_is_400(identity):
    _, client = identity
    assert (await forgot(client, "nope")).status_code == 400
    assert (await client.post("/api/v1/auth/forgot-password", json={})).status_code == 400


async def test_reset_sets_the_new_password_and_ends_every_session(identity):
    runtime, client = identity
    registered = await sign_up(client)
    email = registered["user"]["email"]
    token = await issued_token(runtime, client, email)
    response = await reset(client, token)
    assert response.status_code == 200
    assert response.json()["data"] == {"message": "password reset successful"}
    old = await client.post("/api/v1/auth/login", json={"email": email, "password": "correct-horse"})
    new = await client.post("/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert (old.status_code, new.status_code) == (401, 200)
    refreshed = await client.post("/api/v1/auth/refresh",
                                  json={"refresh_token": registered["refresh_token"]})
    assert refreshed.status_code == 401


async def test_a_used_token_is_400_token_already_used(identity):
    runtime, client = identity
    token = await issued_token(runtime, client, (await sign_up(client))["user"]["email"])
    assert (await reset(client, token)).status_code == 200
    again = await reset(client, token, "another-password")
    assert again.status_code == 400 and again.json()["error"] == "token already used"


async def test_a_successful_reset_also_spends_the_users_other_tokens(identity):
    runtime, client = identity
    email = (await sign_up(client))["user"]["email"]
    earlier = await issued_token(runtime, client, email)
    later = await issued_token(runtime, client, email)
    assert (await reset(client, later)).status_code == 200
    assert (await reset(client, earlier)).json()["error"] == "token already used"


async def test_an_expired_token_is_400_token_expired(identity):
    runtime, client = identity
    token = await issued_token(runtime, client, (await sign_up(client))["user"]["email"])
    async with runtime.database.session() as session:
        await session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await reset(client, token)
    assert response.status_code == 400 and response.json()["error"] == "token expired"


@pytest.mark.parametrize(("token", "password", "error"), [
    ("f" * 64, NEW_PASSWORD, "invalid token"),
    ("", NEW_PASSWORD, "invalid token"),
    (None, "short", "password must be at least 8 characters"),
])
async def test_invalid_reset_is_400_and_keeps_the_password(identity, token, password, error):
    runtime, client = identity
    email = (await sign_up(client))["user"]["email"]
    real = await issued_token(runtime, client, email)
    response = await reset(client, token if token is not None else real, password)
    assert response.status_code == 400 and response.json()["error"] == error
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": "correct-horse"})
    assert login.status_code == 200


async def test_reset_needs_the_camel_case_body(identity):
    runtime, client = identity
    token = await issued_token(runtime, client, (await sign_up(client))["user"]["email"])
    response = await client.post("/api/v1/auth/reset-password", json={"token": token})
    assert response.status_code == 400
    assert "newPassword" in response.json()["error"]
