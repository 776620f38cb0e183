"""The inbox API: list (page and cursor), get one, mark read, read all, unread count."""

import uuid

from tests.service.notification.support import (
    inbox,
    notification_service,
    publish,
    announce_user,
    wait_for,
)
from tests.support.harness import auth_headers


async def fill_inbox(infra, client, person, count: int) -> list[dict]:
    """``count`` notifications besides the welcome one, newest first."""
    for i in range(count):
        await publish(infra, "payment.referral_credited",
                      {"user_id": str(person.user_id), "amount_cents": 100 + i,
                       "referral_id": str(uuid.uuid4()), "referee_id": str(uuid.uuid4()),
                       "role": "referrer"})

    async def filled():
        rows = await inbox(client, person)
        return rows if len(rows) == count + 1 else None

    return await wait_for(filled)


async def test_list_is_a_page_envelope_newest_first(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        await fill_inbox(infra, client, owner, 4)
        response = await client.get("/api/v1/notifications?page=2&limit=2", headers=owner.headers)
        body = response.json()
        assert response.status_code == 200 and body["success"] is True
        assert body["pagination"] == {"total": 5, "page": 2, "limit": 2, "total_pages": 3}
        everything = await inbox(client, owner)
        assert [n["id"] for n in body["data"]] == [n["id"] for n in everything[2:4]]
        stamps = [n["created_at"] for n in everything]
        assert stamps == sorted(stamps, reverse=True)


async def test_cursor_form_walks_every_notification_once(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        everything = await fill_inbox(infra, client, owner, 4)
        seen, cursor = [], ""
        while True:
            response = await client.get("/api/v1/notifications", headers=owner.headers,
                                        params={"cursor": cursor, "limit": 2})
            body = response.json()
            assert response.status_code == 200 and set(body) == {"success", "items", "nextCursor"}
            seen += [item["id"] for item in body["items"]]
            assert all({"id", "type", "title", "body", "createdAt", "readAt"} <= set(item)
                       for item in body["items"])
            cursor = body["nextCursor"]
            if not cursor:
                break
        assert seen == [n["id"] for n in everything]


async def test_bad_cursor_is_400(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        response = await client.get("/api/v1/notifications", headers=owner.headers,
                                    params={"cursor": "not-a-cursor"})
        assert response.status_code == 400
        assert response.json() == {"success": False, "error": "invalid cursor",
                                   "detail": "pass back the nextCursor of a previous page"}


async def test_get_one_returns_the_notification_to_its_owner_and_admin_only(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        [note] = await fill_inbox(infra, client, owner, 0)
        mine = await client.get(f"/api/v1/notifications/{note['id']}", headers=owner.headers)
        assert mine.status_code == 200 and mine.json()["data"]["title"] == "Welcome to Kilat"
        admin = await client.get(f"/api/v1/notifications/{note['id']}",
                                 headers=auth_headers(infra, "admin"))
        assert admin.status_code == 200
        stranger = await client.get(f"/api/v1/notifications/{note['id']}",
                                    headers=auth_headers(infra, "owner"))
        assert stranger.status_code == 403 and stranger.json()["success"] is False
        missing = await client.get(f"/api/v1/notifications/{uuid.uuid4()}", headers=owner.headers)
        assert missing.status_code == 404 and missing.json()["error"] == "Notification not found"
        malformed = await client.get("/api/v1/notifications/nope", headers=owner.headers)
        assert malformed.status_code == 400


async def test_mark_read_by_put_and_post_and_refuses_someone_elses(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        first, second = (await fill_inbox(infra, client, owner, 1))[:2]
        stranger = await client.put(f"/api/v1/notifications/{first['id']}/read",
                                    headers=auth_headers(infra, "owner"))
        assert stranger.status_code == 403
        assert (await client.get(f"/api/v1/notifications/{first['id']}",
                                 headers=owner.headers)).json()["data"]["is_read"] is False
        put = await client.put(f"/api/v1/notifications/{first['id']}/read", headers=owner.headers)
        post = await client.post(f"/api/v1/notifications/{second['id']}/read", headers=owner.headers)
        assert put.status_code == post.status_code == 200
        assert put.json()["data"] == {"message": "notification marked as read"}
        rows = {n["id"]: n for n in await inbox(client, owner)}
        assert rows[first["id"]]["is_read"] and rows[second["id"]]["is_read"]
        assert rows[first["id"]]["read_at"] is not None
        missing = await client.put(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=owner.headers)
        assert missing.status_code == 404


async def test_unread_count_and_mark_all_read(infra):
    async with notification_service(infra) as (_, client):
        owner = await announce_user(infra, "owner")
        other = await announce_user(infra, "owner")
        await fill_inbox(infra, client, owner, 2)
        await fill_inbox(infra, client, other, 0)

        async def count(person):
            response = await client.get("/api/v1/notifications/unread-count", headers=person.headers)
            assert response.status_code == 200
            return response.json()["data"]["count"]

        assert await count(owner) == 3
        done = await client.put("/api/v1/notifications/read-all", headers=owner.headers)
        assert done.status_code == 200 and done.json()["data"] == {"updated": 3}
        assert await count(owner) == 0
        assert await count(other) == 1, "another user's notifications are untouched"
        unread = await client.get("/api/v1/notifications?unread=true", headers=owner.headers)
        assert unread.json()["data"] == []
        again = await client.post("/api/v1/notifications/read-all", headers=other.headers)
        assert again.json()["data"] == {"updated": 1} and await count(other) == 0


async def test_inbox_needs_a_token(infra):
    async with notification_service(infra) as (_, client):
        response = await client.get("/api/v1/notifications")
        assert response.status_code == 401
        assert response.json()["error"] == "authorization header is required"
