"""Registering a device token is an idempotent upsert: concurrent calls all succeed, one row."""

import asyncio

from sqlalchemy import func, select

from kilat.services.notification.models import Preference
from tests.service.notification.support import notification_service, announce_user


async def register_concurrently(client, person, tokens: list[str]) -> list[int]:
    responses = await asyncio.gather(*(
        client.post("/api/v1/notifications/fcm-token", headers=person.headers,
                    json={"token": token}) for token in tokens))
    assert all(r.json()["success"] is True for r in responses), [r.text for r in responses]
    return [r.status_code for r in responses]


async def preference_rows(runtime, person) -> list[Preference]:
    async with runtime.database.session(write=False) as session:
        return list(await session.scalars(
            select(Preference).where(Preference.user_id == person.user_id)))


async def check_ten_concurrent_registrations(runtime, client, person) -> None:
    tokens = [f"device-{n}" for n in range(10)]
    assert await register_concurrently(client, person, tokens) == [200] * 10
    [row] = await preference_rows(runtime, person)
    assert row.fcm_token in tokens
    again = await register_concurrently(client, person, [f"again-{n}" for n in range(10)])
    assert again == [200] * 10
    [row] = await preference_rows(runtime, person)
    read = await client.get("/api/v1/notifications/preferences", headers=person.headers)
    assert read.json()["data"]["fcm_token"] == row.fcm_token
    assert read.json()["data"]["version"] == row.version


async def test_ten_concurrent_token_registrations_all_succeed_with_one_row(infra):
    async with notification_service(infra) as (runtime, client):
        await check_ten_concurrent_registrations(runtime, client, await announce_user(infra, "owner"))


async def test_a_token_registration_moves_the_preferences_version_on(infra):
    async with notification_service(infra) as (runtime, client):
        owner = await announce_user(infra, "owner")
        await register_concurrently(client, owner, ["first"])
        version = (await client.get("/api/v1/notifications/preferences",
                                    headers=owner.headers)).json()["data"]["version"]
        await register_concurrently(client, owner, ["second"])
        stale = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                 json={"enable_sms": False, "version": version})
        assert stale.status_code == 409
        async with runtime.database.session(write=False) as session:
            count = await session.scalar(select(func.count()).select_from(Preference))
        assert count == 1


async def test_a_token_with_control_characters_is_400(infra):
    async with notification_service(infra) as (runtime, client):
        owner = await announce_user(infra, "owner")
        for token in ("nul\x00token", "bell\x07token"):
            response = await client.post("/api/v1/notifications/fcm-token", headers=owner.headers,
                                         json={"token": token})
            assert response.status_code == 400
            assert response.json()["success"] is False
        assert await preference_rows(runtime, owner) == []
