"""Phone sign-in: a code texted through notification (read here from identity's outbox), checked
once, with expiry, an attempt cap, a resend cooldown and rate limits."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kilat.platform.models import utcnow
from kilat.services.identity import descriptor
from kilat.services.identity.models import OtpCode, User
from kilat.services.identity.settings import IdentitySettings
from tests.service.identity.support import make_admin, recorded_events
from tests.support.harness import running_service
from tests.support.people import bearer, sign_up

CODE_EVENT = "identity.sign_in_code_requested"
_numbers = itertools.count(1000000)


def new_number() -> str:
    """A fresh valid Indonesian mobile number, national form (read with the default region)."""
    return f"0812{next(_numbers):08d}"


def e164(national: str) -> str:
    return "+62" + national[1:]


async def request_code(client, phone: str, **headers):
    return await client.post("/api/v1/auth/otp/request", json={"phone": phone}, headers=headers)


async def verify(client, phone: str, code: str, **extra):
    return await client.post("/api/v1/auth/otp/verify", json={"phone": phone, "code": code} | extra)


async def sent_code(runtime, client, phone: str) -> str:
    response = await request_code(client, phone)
    assert response.status_code == 202, response.text
    events = [e for e in await recorded_events(runtime, CODE_EVENT) if e["phone"] == e164(phone)]
    return events[-1]["code"]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_request_answers_202_with_the_timings_and_records_the_code_hashed(identity):
    runtime, client = identity
    phone = new_number()
    response = await request_code(client, f" {phone[:4]}-{phone[4:8]}-{phone[8:]} ")
    assert response.status_code == 202
    assert response.json() == {"success": True, "data": {"expires_in_seconds": 300,
                                                         "resend_after_seconds": 60}}
    [event] = await recorded_events(runtime, CODE_EVENT)
    assert event["phone"] == e164(phone) and len(event["code"]) == 6 and event["code"].isdigit()
    assert event["user_id"] is None and event["valid_seconds"] == 300
    async with runtime.database.session(write=False) as session:
        stored = (await session.scalars(select(OtpCode))).one()
    assert stored.phone == e164(phone) and event["code"] not in stored.code_hash
    assert len(stored.code_hash) == 64


async def test_first_verify_creates_a_passenger_and_signs_in(identity):
    runtime, client = identity
    phone = new_number()
    code = await sent_code(runtime, client, phone)
    response = await verify(client, phone, code, role="passenger", full_name="Sari")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"access_token", "refresh_token", "user"}
    user = data["user"]
    assert (user["role"], user["phone"], user["email"], user["full_name"]) == (
        "passenger", e164(phone), "", "Sari")
    assert user["is_verified"] is True
    profile = await client.get("/api/v1/auth/profile", headers=bearer(data["access_token"]))
    assert profile.status_code == 200 and profile.json()["data"]["id"] == user["id"]
    [registered] = await recorded_events(runtime, "identity.user_registered")
    assert (registered["user_id"], registered["phone"], registered["role"]) == (
        user["id"], e164(phone), "passenger")
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": data["refresh_token"]})
    assert refreshed.status_code == 200


async def test_second_verify_signs_the_same_account_in_and_the_event_names_it(identity):
    runtime, client = identity
    phone = new_number()
    first = await verify(client, phone, await sent_code(runtime, client, phone), role="driver")
    assert first.status_code == 200 and first.json()["data"]["user"]["role"] == "driver"
    async with runtime.database.session() as session:  # let the cooldown pass
        await session.execute(update(OtpCode).values(created_at=utcnow().replace(year=2025)))
    second = await verify(client, phone, await sent_code(runtime, client, phone))
    assert second.status_code == 200, second.text
    assert second.json()["data"]["user"]["id"] == first.json()["data"]["user"]["id"]
    assert (await recorded_events(runtime, CODE_EVENT))[-1]["user_id"] == \
        first.json()["data"]["user"]["id"]
    assert len(await recorded_events(runtime, "identity.user_registered")) == 1


async def test_a_code_signs_in_once(identity):
    runtime, client = identity
    phone = new_number()
    code = await sent_code(runtime, client, phone)
    assert (await verify(client, phone, code, role="passenger")).status_code == 200
    again = await verify(client, phone, code)
    assert again.status_code == 400 and again.json()["error"] == "no code to check"


async def test_a_role_other_than_the_accounts_is_409_and_signs_nobody_in(identity):
    runtime, client = identity
    phone = new_number()
    assert (await verify(client, phone, await sent_code(runtime, client, phone),
                         role="passenger")).status_code == 200
    async with runtime.database.session() as session:
        await session.execute(update(OtpCode).values(created_at=utcnow().replace(year=2025)))
    code = await sent_code(runtime, client, phone)
    refused = await verify(client, phone, code, role="driver")
    assert refused.status_code == 409
    assert refused.json()["error"] == "this number belongs to a passenger account"
    # the refusal did not spend the code
    assert (await verify(client, phone, code, role="passenger")).status_code == 200


async def test_first_verify_needs_a_phone_role(identity):
    runtime, client = identity
    phone = new_number()
    code = await sent_code(runtime, client, phone)
    missing = await verify(client, phone, code)
    assert missing.status_code == 422 and missing.json()["error"] == "role is required"
    for role in ("owner", "admin", "gate", "customer"):
        refused = await verify(client, phone, code, role=role)
        assert refused.status_code == 403, role
    assert (await verify(client, phone, code, role="nobody")).status_code == 400
    async with runtime.database.session(write=False) as session:
        assert (await session.scalars(select(User))).all() == []
    assert (await verify(client, phone, code, role="passenger")).status_code == 200


async def test_wrong_codes_are_capped_then_the_code_is_dead(identity):
    runtime, client = identity
    phone = new_number()
    code = await sent_code(runtime, client, phone)
    for left in (4, 3, 2, 1):
        response = await verify(client, phone, wrong(code), role="passenger")
        assert response.status_code == 400
        assert response.json() == {"success": False, "error": "wrong code",
                                   "detail": f"{left} attempt(s) left"}
    last = await verify(client, phone, wrong(code), role="passenger")
    assert last.json()["detail"] == "no attempts left; request a new code"
    dead = await verify(client, phone, code, role="passenger")
    assert dead.status_code == 400 and dead.json()["error"] == "too many wrong codes"
    async with runtime.database.session(write=False) as session:
        assert (await session.scalars(select(OtpCode))).one().attempts == 5
        assert (await session.scalars(select(User))).all() == []


async def test_an_expired_code_is_refused(identity):
    runtime, client = identity
    phone = new_number()
    code = await sent_code(runtime, client, phone)
    async with runtime.database.session() as session:
        await session.execute(update(OtpCode).values(expires_at=utcnow()))
    response = await verify(client, phone, code, role="passenger")
    assert response.status_code == 400 and response.json()["error"] == "code expired"


async def test_a_second_request_within_the_cooldown_is_429_with_retry_after(identity):
    runtime, client = identity
    phone = new_number()
    first = await sent_code(runtime, client, phone)
    again = await request_code(client, e164(phone))
    assert again.status_code == 429
    assert 55 <= int(again.headers["Retry-After"]) <= 60
    assert len(await recorded_events(runtime, CODE_EVENT)) == 1
    # after the cooldown, the new code replaces the old one
    async with runtime.database.session() as session:
        await session.execute(update(OtpCode).values(created_at=utcnow().replace(year=2025)))
    second = await sent_code(runtime, client, phone)
    if second != first:
        assert (await verify(client, phone, first, role="passenger")).status_code == 400
    assert (await verify(client, phone, second, role="passenger")).status_code == 200


@pytest.mark.parametrize("phone", ["12345", "+62 12", "not a phone", "+999123456789"])
async def test_invalid_numbers_are_422_and_send_nothing(identity, phone):
    runtime, client = identity
    response = await request_code(client, phone)
    assert response.status_code == 422 and response.json()["error"] == "invalid phone number"
    assert (await verify(client, phone, "123456")).status_code == 422
    assert await recorded_events(runtime, CODE_EVENT) == []


async def test_malformed_bodies_are_400(identity):
    _, client = identity
    assert (await client.post("/api/v1/auth/otp/request", json={})).status_code == 400
    for code in ("12345", "1234567", "abcdef"):
        assert (await verify(client, new_number(), code)).status_code == 400


@pytest.fixture
async def limited(infra):
    infra.service_settings["identity"] = IdentitySettings(
        otp_resend_seconds=0, otp_ip_limit=3, otp_phone_limit=2)
    async with running_service(descriptor, infra) as running:
        yield running


async def test_requests_from_one_address_are_limited(limited):
    _, client = limited
    for _ in range(3):
        assert (await request_code(client, new_number(), **{"X-Forwarded-For": "203.0.113.7"})
                ).status_code == 202
    refused = await request_code(client, new_number(), **{"X-Forwarded-For": "203.0.113.7"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"] == "too many code requests from this address"
    other = await request_code(client, new_number(), **{"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 202


async def test_codes_to_one_number_are_limited_per_hour(limited):
    runtime, client = limited
    phone = new_number()
    for n in range(2):
        response = await request_code(client, phone, **{"X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 202
    refused = await request_code(client, phone, **{"X-Forwarded-For": "198.51.100.9"})
    assert refused.status_code == 429 and refused.json()["error"] == "too many codes sent to this number"
    assert 3590 <= int(refused.headers["Retry-After"]) <= 3600
    async with runtime.database.session() as session:  # an hour later
        await session.execute(update(OtpCode).values(created_at=utcnow() - timedelta(hours=1)))
    assert (await request_code(client, phone, **{"X-Forwarded-For": "198.51.100.9"})
            ).status_code == 202


async def test_a_banned_account_cannot_sign_in_by_phone(identity):
    runtime, client = identity
    phone = new_number()
    user = (await verify(client, phone, await sent_code(runtime, client, phone),
                         role="passenger")).json()["data"]["user"]
    admin = await make_admin(runtime, client)
    assert (await client.post(f"/api/v1/admin/users/{user['id']}/ban",
                              headers=bearer(admin["access_token"]))).status_code == 200
    async with runtime.database.session() as session:
        await session.execute(update(OtpCode).values(created_at=utcnow().replace(year=2025)))
    response = await verify(client, phone, await sent_code(runtime, client, phone))
    assert response.status_code == 403


async def test_an_email_passenger_keeps_a_normalised_phone_and_pets_formats_stay(identity):
    _, client = identity
    passenger = (await sign_up(client, role="passenger", phone="0812-3456-7890"))["user"]
    assert passenger["phone"] == "+6281234567890"
    owner = (await sign_up(client, role="owner", phone="0123456789"))["user"]
    assert owner["phone"] == "0123456789"
    bad = await client.post("/api/v1/auth/register", json={
        "email": "p@example.com", "password": "correct-horse", "full_name": "P",
        "role": "driver", "phone": "12345"})
    assert bad.status_code == 422


async def test_an_email_account_is_not_reached_by_phone_sign_in(identity):
    """Its phone was never proven: phone sign-in makes a separate account (no takeover)."""
    runtime, client = identity
    phone = new_number()
    email_user = (await sign_up(client, role="passenger", phone=phone))["user"]
    signed_in = await verify(client, phone, await sent_code(runtime, client, phone),
                             role="passenger")
    assert signed_in.status_code == 200
    assert signed_in.json()["data"]["user"]["id"] != email_user["id"]


async def test_a_phone_account_edits_its_profile_but_signs_in_with_its_proven_number(identity):
    runtime, client = identity
    phone = new_number()
    signed_in = (await verify(client, phone, await sent_code(runtime, client, phone),
                              role="passenger")).json()["data"]
    headers = bearer(signed_in["access_token"])
    other = new_number()
    updated = await client.put("/api/v1/auth/profile", headers=headers,
                               json={"full_name": "Sari Dewi", "phone": other})
    assert updated.status_code == 200
    assert (updated.json()["data"]["full_name"], updated.json()["data"]["phone"]) == (
        "Sari Dewi", e164(other))
    invalid = await client.put("/api/v1/auth/profile", headers=headers, json={"phone": "12345"})
    assert invalid.status_code == 422
    async with runtime.database.session() as session:
        await session.execute(update(OtpCode).values(created_at=utcnow().replace(year=2025)))
    again = await verify(client, phone, await sent_code(runtime, client, phone))
    assert again.json()["data"]["user"]["id"] == signed_in["user"]["id"]
