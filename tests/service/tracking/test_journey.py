"""End to end across services: a booking is accepted, the runner's HTTP pings (runner service)
reach the owner's WebSocket (tracking service) in order and in bounded time, the route shows the
line, a share link shows the same live view until revoked, chat works both ways, and delivery
ends the trip."""

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

from kilat.services.booking import descriptor as booking
from kilat.services.runner import descriptor as runner_service
from kilat.services.tracking import descriptor as tracking
from tests.service.tracking.support import (
    ORIGIN,
    Trip,
    next_frame,
    now,
    path,
    serve,
    socket_for,
    wait_for,
)
from tests.support.harness import running_service

BOOKING_BODY = {
    "pet_spec": {"pet_type": "cat", "name": "Milo", "weight_kg": 4.2, "breed": "", "age_months": 24,
                 "special_needs": "", "photo_url": "", "vaccinations": []},
    "pickup_address": {"line1": "12 Jalan Ampang", "line2": "", "city": "Kuala Lumpur", "state": "WP",
                       "postal_code": "50450", "country": "MY", "latitude": ORIGIN[0],
                       "longitude": ORIGIN[1]},
    "dropoff_address": {"line1": "1 Jalan Bangsar", "line2": "", "city": "Kuala Lumpur", "state": "WP",
                        "postal_code": "59000", "country": "MY", "latitude": 3.15, "longitude": 101.71},
    "scheduled_at": None,
    "notes": "",
}


async def test_runner_http_pings_reach_the_owners_socket_and_the_whole_trip_works(infra):
    async with AsyncExitStack() as stack:
        _, bookings = await stack.enter_async_context(running_service(booking, infra))
        _, runners = await stack.enter_async_context(running_service(runner_service, infra))
        tracker, client = await stack.enter_async_context(running_service(tracking, infra))
        base = await stack.enter_async_context(serve(tracker))
        people = Trip(infra)

        created = await bookings.post("/api/v1/bookings", json=BOOKING_BODY, headers=people.headers("owner"))
        assert created.status_code == 201, created.text
        people.booking_id = booking_id = created.json()["data"]["id"]
        registered = await runners.post("/api/v1/runners", headers=people.headers("runner"),
                                        json={"vehicle_type": "car", "vehicle_plate": "WXY 1234"})
        assert registered.status_code == 201, registered.text
        online = await runners.post("/api/v1/runners/me/online", headers=people.headers("runner"),
                                    json={"latitude": ORIGIN[0], "longitude": ORIGIN[1]})
        assert online.status_code == 200, online.text
        accepted = await bookings.post(f"/api/v1/bookings/{booking_id}/accept",
                                       headers=people.headers("runner"))
        assert accepted.status_code == 200, accepted.text

        async def trip_started():
            response = await client.get(f"/api/v1/tracking/{booking_id}", headers=people.headers("owner"))
            return response.status_code == 200

        await wait_for(trip_started)
        link = (await client.post(f"/api/v1/tracking/{booking_id}/share",
                                  headers=people.headers("owner"))).json()["data"]
        owner = await stack.enter_async_context(socket_for(base, booking_id, token=people.token("owner")))
        guest = await stack.enter_async_context(socket_for(base, booking_id, share=link["share_token"]))

        steps = path(10, step_m=30, start=now() - timedelta(seconds=60))
        started = asyncio.get_running_loop().time()
        for lat, lng, at in steps:
            ping = await runners.post("/api/v1/runners/me/location", headers=people.headers("runner"), json={
                "latitude": lat, "longitude": lng, "speed_kmh": 25, "heading_degrees": 0,
                "accuracy_m": 6, "timestamp": at.isoformat()})
            assert ping.status_code == 200 and ping.json()["data"]["accepted"] is True, ping.text
        seen = [await next_frame(owner, "location_update", timeout=2) for _ in steps]
        elapsed = asyncio.get_running_loop().time() - started
        assert [(f["latitude"], f["longitude"]) for f in seen] == [(lat, lng) for lat, lng, _ in steps]
        assert {f["runner_id"] for f in seen} == {str(people.runner_id)} and elapsed < 3
        assert (await next_frame(guest, "location_update"))["latitude"] == steps[0][0]

        async def route_complete():
            response = await client.get(f"/api/v1/tracking/{booking_id}/route",
                                        headers=people.headers("owner"))
            return len(response.json()["coordinates"]) == 10

        await wait_for(route_complete)

        await client.post(f"/api/v1/chat/{booking_id}/messages", headers=people.headers("owner"),
                          json={"message_type": "text", "content": "Milo gets carsick, go slow"})
        await client.post(f"/api/v1/chat/{booking_id}/messages", headers=people.headers("runner"),
                          json={"message_type": "quick_reply", "content": "Will do"})
        chats = [await next_frame(owner, "chat_message") for _ in range(2)]
        assert [c["sender_role"] for c in chats] == ["owner", "runner"]

        await client.delete(f"/api/v1/tracking/{booking_id}/shares/{link['id']}",
                            headers=people.headers("owner"))
        assert (await client.get(link["share_url"])).status_code == 404

        for step in ("pickup", "deliver"):
            response = await bookings.post(f"/api/v1/bookings/{booking_id}/{step}",
                                           headers=people.headers("runner"))
            assert response.status_code == 200, response.text
        final = await next_frame(owner, "status", timeout=5)
        while final["status"] != "completed":
            final = await next_frame(owner, "status", timeout=5)
        assert final["total_distance_km"] == 0.27
