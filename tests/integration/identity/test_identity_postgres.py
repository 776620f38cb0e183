"""Identity on PostgreSQL: the flows work and races are settled by the database."""

import asyncio

from tests.service.identity.support import login
from tests.support.people import bearer, registration, sign_up


async def test_register_login_refresh_and_profile_work_on_postgres(identity_pg):
    runtime, client = identity_pg
    assert runtime.database.dialect == "postgresql"
    registered = await sign_up(client, phone="+60123456789")
    signed_in = await login(client, registered["user"]["email"])
    refreshed = await client.post("/api/v1/auth/refresh",
                                  json={"refresh_token": signed_in["refresh_token"]})
    assert refreshed.status_code == 200
    profile = await client.get("/api/v1/auth/profile",
                               headers=bearer(refreshed.json()["data"]["access_token"]))
    assert profile.json()["data"] == registered["user"]


async def test_concurrent_duplicate_registration_gives_one_201_and_one_409(identity_pg):
    _, client = identity_pg
    body = registration()
    responses = await asyncio.gather(*[
        client.post("/api/v1/auth/register", json=body) for _ in range(2)
    ])
    assert sorted(r.status_code for r in responses) == [201, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.json()["error"] == f"User with email '{body['email']}' already exists"


async def test_many_concurrent_registrations_of_one_email_create_one_account(identity_pg):
    _, client = identity_pg
    body = registration()
    responses = await asyncio.gather(*[
        client.post("/api/v1/auth/register", json=body) for _ in range(6)
    ])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 5
    errors = {r.json()["error"] for r in responses if r.status_code == 409}
    assert errors == {f"User with email '{body['email']}' already exists"}


async def test_concurrent_use_of_one_refresh_token_succeeds_exactly_once(identity_pg):
    _, client = identity_pg
    token = (await sign_up(client))["refresh_token"]
    responses = await asyncio.gather(*[
        client.post("/api/v1/auth/refresh", json={"refresh_token": token}) for _ in range(2)
    ])
    assert sorted(r.status_code for r in responses) == [200, 401]


async def test_concurrent_runner_applications_are_numbered_without_gaps_or_repeats(identity_pg):
    _, client = identity_pg
    bodies = [{"name": "Runner", "phone": "+60123456789", "icNumber": f"90010114{n:04d}",
               "vehicleType": "bicycle", "consentAcknowledged": True} for n in range(6)]
    responses = await asyncio.gather(*[client.post("/api/v1/runners/apply", json=b) for b in bodies])
    assert [r.status_code for r in responses] == [201] * 6
    sequences = sorted(int(r.json()["data"]["applicationId"][-5:]) for r in responses)
    assert sequences == [1, 2, 3, 4, 5, 6]


async def test_concurrent_first_requests_for_a_referral_code_agree(identity_pg):
    _, client = identity_pg
    headers = bearer((await sign_up(client))["access_token"])
    responses = await asyncio.gather(*[
        client.get("/api/v1/referrals/code", headers=headers) for _ in range(4)
    ])
    assert [r.status_code for r in responses] == [200] * 4
    assert len({r.json()["data"]["referral_code"] for r in responses}) == 1
