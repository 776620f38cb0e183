"""Preferences: defaults, partial updates that keep `false`, quiet hours, validation, FCM token."""

import pytest

from tests.service.notification.support import (
    notification_service,
    announce_user,
    wait_for,
    wait_inbox,
)


async def test_defaults_come_from_the_identity_contact(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner", phone="+60129998888")

        async def known():
            response = await client.get("/api/v1/notifications/preferences", headers=owner.headers)
            assert response.status_code == 200
            return response if response.json()["data"]["email"] else None

        response = await wait_for(known)
        assert response.json()["data"] == {
            "user_id": str(owner.user_id), "enable_push": True, "enable_sms": True,
            "enable_email": True, "fcm_token": None, "phone_number": "+60129998888",
            "email": owner.email, "quiet_hours_start": None, "quiet_hours_end": None,
            "locale": "en", "timezone": "UTC", "version": 0}


async def test_update_saves_false_and_keeps_fields_not_sent(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        first = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                 json={"enable_sms": False, "quiet_hours_start": "22:00",
                                       "quiet_hours_end": "07:00",
                                       "timezone": "Asia/Kuala_Lumpur", "email": "me@example.org"})
        assert first.status_code == 200, first.text
        second = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                  json={"enable_push": False})
        data = second.json()["data"]
        assert (data["enable_push"], data["enable_sms"], data["enable_email"]) == (False, False, True)
        assert (data["quiet_hours_start"], data["quiet_hours_end"]) == ("22:00", "07:00")
        assert data["timezone"] == "Asia/Kuala_Lumpur" and data["email"] == "me@example.org"
        read = await client.get("/api/v1/notifications/preferences", headers=owner.headers)
        assert read.json()["data"] == data
        cleared = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                   json={"quiet_hours_start": None, "quiet_hours_end": None})
        assert cleared.json()["data"]["quiet_hours_start"] is None


@pytest.mark.parametrize("body, error", [
    ({"quiet_hours_start": "25:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
    ({"quiet_hours_start": "7am", "quiet_hours_end": "07:00"}, "quiet_hours_start"),
    ({"quiet_hours_start": "22:00"}, "quiet_hours_start and quiet_hours_end must be set together"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"locale": "fr"}, "locale"),
    ({"enable_push": "maybe"}, "enable_push"),
    ({"enable_push": None}, "enable_push"),
    ({"email": "not-an-email"}, "email"),
    ({"phone_number": "call me"}, "phone_number"),
    ({"surprise": True}, "surprise"),
])
async def test_bad_preferences_are_400_and_change_nothing(infra, body, error):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        await wait_inbox(client, owner, "identity.user_registered")
        before = (await client.get("/api/v1/notifications/preferences", headers=owner.headers)).json()
        response = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                    json=body)
        assert response.status_code == 400
        assert error in response.json()["error"]
        after = (await client.get("/api/v1/notifications/preferences", headers=owner.headers)).json()
        assert after == before


async def test_stale_version_is_409(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        saved = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                 json={"enable_sms": False})
        version = saved.json()["data"]["version"]
        ok = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                              json={"enable_email": False, "version": version})
        stale = await client.put("/api/v1/notifications/preferences", headers=owner.headers,
                                 json={"enable_email": True, "version": version})
        assert ok.status_code == 200 and stale.status_code == 409
        read = await client.get("/api/v1/notifications/preferences", headers=owner.headers)
        assert read.json()["data"]["enable_email"] is False


async def test_fcm_token_registration(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        response = await client.post("/api/v1/notifications/fcm-token", headers=owner.headers,
                                     json={"token": "fcm-device-1"})
        assert response.status_code == 200
        assert response.json()["data"] == {"message": "FCM token registered"}
        read = await client.get("/api/v1/notifications/preferences", headers=owner.headers)
        assert read.json()["data"]["fcm_token"] == "fcm-device-1"
        empty = await client.post("/api/v1/notifications/fcm-token", headers=owner.headers,
                                  json={"token": ""})
        assert empty.status_code == 400
