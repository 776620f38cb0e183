"""Referral codes and referrals recorded at registration."""

import asyncio
import re

from sqlalchemy import func, select

from kilat.platform.events import new_event
from kilat.services.identity.models import User
from tests.service.identity.support import recorded_events
from tests.support.harness import auth_headers
from tests.support.people import bearer, registration, sign_up


async def code_of(client, access_token: str) -> str:
    response = await client.get("/api/v1/referrals/code", headers=bearer(access_token))
    assert response.status_code == 200, response.text
    return response.json()["data"]["referral_code"]


async def test_referral_code_is_created_on_first_request_and_then_stable(identity):
    _, client = identity
    token = (await sign_up(client))["access_token"]
    code = await code_of(client, token)
    assert re.fullmatch(r"REF-[0-9a-f]{8}", code)
    assert await code_of(client, token) == code
    other = await code_of(client, (await sign_up(client))["access_token"])
    assert other != code


async def test_referral_flow_end_to_end(identity):
    runtime, client = identity
    referrer = await sign_up(client, full_name="Referrer")
    code = await code_of(client, referrer["access_token"])

    referee = await sign_up(client, referral_code=f" {code.upper()} ")

    stats = await client.get("/api/v1/referrals/me", headers=bearer(referrer["access_token"]))
    assert stats.status_code == 200
    data = stats.json()["data"]
    assert data["referral_code"] == code and data["total_referrals"] == 1
    [referral] = data["referrals"]
    assert referral["referee_id"] == referee["user"]["id"]
    assert referral["reward_amount_cents"] == 500
    assert referral["referrer_credited"] is False and referral["referee_credited"] is False
    [event] = await recorded_events(runtime, "identity.referral_recorded")
    assert event["referrer_id"] == referrer["user"]["id"]
    assert event["referee_id"] == referee["user"]["id"] and event["code"] == code
    registered = await recorded_events(runtime, "identity.user_registered")
    assert registered[-1]["referral_code_used"] == code


async def test_referral_stats_start_empty(identity):
    _, client = identity
    token = (await sign_up(client))["access_token"]
    data = (await client.get("/api/v1/referrals/me", headers=bearer(token))).json()["data"]
    assert data["total_referrals"] == 0 and data["referrals"] == []
    assert data["referral_code"] == await code_of(client, token)


async def test_unknown_referral_code_is_400_and_creates_no_account(identity):
    runtime, client = identity
    for bad in ("REF-00000000", "not-a-code"):
        response = await client.post("/api/v1/auth/register", json=registration(referral_code=bad))
        assert response.status_code == 400
        assert response.json()["error"] == "invalid referral code"
    async with runtime.database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_empty_referral_code_is_ignored(identity):
    runtime, client = identity
    await sign_up(client, referral_code="")
    assert await recorded_events(runtime, "identity.referral_recorded") == []


async def test_referral_routes_need_an_existing_account(identity, infra):
    _, client = identity
    assert (await client.get("/api/v1/referrals/code")).status_code == 401
    ghost = auth_headers(infra, "owner")
    assert (await client.get("/api/v1/referrals/code", headers=ghost)).status_code == 404
    assert (await client.get("/api/v1/referrals/me", headers=ghost)).status_code == 404


async def test_credits_paid_by_payment_show_on_the_referrers_stats(identity, infra):
    runtime, client = identity
    referrer = await sign_up(client, full_name="Referrer")
    code = await code_of(client, referrer["access_token"])
    referee = await sign_up(client, referral_code=code)
    for role, user in (("referrer", referrer), ("referee", referee)):
        await infra.bus.publish(new_event("payment.referral_credited", {
            "referrer_id": referrer["user"]["id"], "referee_id": referee["user"]["id"],
            "user_id": user["user"]["id"], "role": role, "amount_cents": 500, "currency": "MYR",
        }, source="service-payment"))

    async def credited():
        stats = await client.get("/api/v1/referrals/me", headers=bearer(referrer["access_token"]))
        [referral] = stats.json()["data"]["referrals"]
        return referral["referrer_credited"] and referral["referee_credited"]

    for _ in range(100):
        if await credited():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("referral credits never reached identity")
