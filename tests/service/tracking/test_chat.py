"""Chat between owner and runner: both ways, paginated history, unread counts, a notification event."""

import uuid

from kilat.services.tracking import descriptor
from tests.service.tracking.support import Trip, deliver, recorded
from tests.support.harness import auth_headers, running_service


async def say(client, trip: Trip, who: str, content: str, message_type: str = "text"):
    return await client.post(f"/api/v1/chat/{trip.booking_id}/messages",
                             json={"message_type": message_type, "content": content},
                             headers=trip.headers(who))


async def chat_trip(runtime, infra) -> Trip:
    trip = Trip(infra)
    await deliver(runtime, trip.accepted())
    return trip


async def test_owner_and_runner_write_to_each_other(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await chat_trip(runtime, infra)
        sent = await say(client, trip, "owner", "  Is Milo comfortable? ")
        assert sent.status_code == 201
        message = sent.json()["data"]
        assert message["content"] == "Is Milo comfortable?"
        assert (message["sender_id"], message["sender_role"], message["recipient_id"]) == (
            str(trip.owner_id), "owner", str(trip.runner_id))
        reply = (await say(client, trip, "runner", "Sleeping", "quick_reply")).json()["data"]
        assert (reply["sender_role"], reply["recipient_id"]) == ("runner", str(trip.owner_id))
        events = await recorded(runtime, "chat.message_sent")
        assert [(e["sender_id"], e["recipient_id"], e["content"]) for e in events] == [
            (str(trip.owner_id), str(trip.runner_id), "Is Milo comfortable?"),
            (str(trip.runner_id), str(trip.owner_id), "Sleeping"),
        ]


async def test_history_is_paginated_oldest_first(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await chat_trip(runtime, infra)
        for n in range(5):
            await say(client, trip, "owner" if n % 2 == 0 else "runner", f"m{n}")
        response = await client.get(f"/api/v1/chat/{trip.booking_id}/messages?page=2&limit=2",
                                    headers=trip.headers("runner"))
        body = response.json()
        assert [m["content"] for m in body["data"]] == ["m2", "m3"]
        assert body["pagination"] == {"total": 5, "page": 2, "limit": 2, "total_pages": 3}


async def test_images_must_be_http_urls_and_bad_bodies_are_400_with_nothing_stored(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await chat_trip(runtime, infra)
        assert (await say(client, trip, "runner", "https://cdn.example/milo.jpg", "image")).status_code == 201
        bad = (("not a link", "image"), ("   ", "text"), ("hi", "voice"), ("x" * 2001, "text"))
        for content, kind in bad:
            response = await say(client, trip, "owner", content, kind)
            assert response.status_code == 400, (content, kind)
            assert response.json()["success"] is False
        history = await client.get(f"/api/v1/chat/{trip.booking_id}/messages", headers=trip.headers("owner"))
        assert history.json()["pagination"]["total"] == 1


async def test_strangers_neither_read_nor_write_and_unknown_bookings_are_404(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await chat_trip(runtime, infra)
        stranger = auth_headers(infra, "runner")
        url = f"/api/v1/chat/{trip.booking_id}/messages"
        assert (await client.post(url, json={"message_type": "text", "content": "hi"},
                                  headers=stranger)).status_code == 403
        assert (await client.get(url, headers=stranger)).status_code == 403
        assert (await client.get(url)).status_code == 401
        missing = await client.get(f"/api/v1/chat/{uuid.uuid4()}/messages", headers=trip.headers("owner"))
        assert missing.status_code == 404


async def test_unread_counts_are_per_participant_until_read(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await chat_trip(runtime, infra)
        await say(client, trip, "owner", "one")
        await say(client, trip, "owner", "two")
        await say(client, trip, "runner", "three")

        async def unread(who: str) -> int:
            response = await client.get(f"/api/v1/chat/{trip.booking_id}/unread", headers=trip.headers(who))
            return response.json()["data"]["unread_count"]

        assert (await unread("runner"), await unread("owner")) == (2, 1)
        marked = await client.post(f"/api/v1/chat/{trip.booking_id}/read", headers=trip.headers("runner"))
        assert marked.json()["data"]["unread_count"] == 0 and marked.json()["data"]["last_read_at"]
        assert (await unread("runner"), await unread("owner")) == (0, 1)
        await say(client, trip, "owner", "four")
        assert await unread("runner") == 1
        assert (await client.get(f"/api/v1/chat/{trip.booking_id}/unread",
                                 headers=auth_headers(infra, "owner"))).status_code == 403


async def test_an_admin_may_write_to_both_parties(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        trip = await chat_trip(runtime, infra)
        message = (await say(client, trip, "admin", "Support here")).json()["data"]
        assert (message["sender_role"], message["recipient_id"]) == ("admin", None)
