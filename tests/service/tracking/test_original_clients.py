"""What the original Kilat apps get from ``/ws/tracking/{booking_id}`` when they ask for nothing:
flat location frames with numeric speed and heading, no other frame types, and a socket that an
owner may open before any runner has accepted the booking."""

import asyncio
import json
import logging
import uuid

import pytest
from websockets.exceptions import InvalidStatus

from kilat.services.tracking import descriptor
from tests.service.tracking.support import Trip, deliver, live, next_frame, path, serve, socket_for
from tests.support.harness import auth_headers, running_service, wait_for

PINGS = "runner.location_update"


async def drain(ws, seconds: float = 0.3) -> list[dict]:
    """Every frame that arrives within ``seconds``."""
    received = []
    while True:
        try:
            received.append(json.loads(await asyncio.wait_for(ws.recv(), seconds)))
        except TimeoutError:
            return received


def assert_original_location_frame(frame: dict) -> None:
    """What the owner app does with a frame: read coordinates and format speed and heading."""
    assert frame["type"] == "location_update"
    assert isinstance(frame["latitude"], float) and isinstance(frame["longitude"], float)
    assert isinstance(frame["speed_kmh"], float), frame
    assert isinstance(frame["heading_degrees"], float), frame


async def test_a_runner_without_speed_or_heading_gives_numbers_in_every_frame(infra):
    async with running_service(descriptor, infra) as (runtime, _client), serve(runtime) as base:
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        async with socket_for(base, trip.booking_id, token=trip.token("owner"), frames=None) as owner:
            for lat, lng, at in path(3):
                ping = trip.ping(lat, lng, at, speed_kmh=None) | {"heading_degrees": None}
                await runtime.bus.publish_fast(PINGS, ping)
            frames = [await next_frame(owner, timeout=2) for _ in range(3)]
        for frame in frames:
            assert_original_location_frame(frame)
            assert (frame["speed_kmh"], frame["heading_degrees"]) == (0.0, 0.0)
            assert (frame["speed_known"], frame["heading_known"]) == (False, False)
        # the last position is replayed on (re)connect, and it is just as readable
        async with serve(runtime) as again, \
                socket_for(again, trip.booking_id, token=trip.token("owner"), frames=None) as owner:
            replayed = await next_frame(owner, timeout=2)
        assert_original_location_frame(replayed)
        assert replayed["latitude"] == path(3)[-1][0]


async def test_a_default_socket_gets_only_location_frames_through_pickup_chat_and_delivery(infra):
    async with running_service(descriptor, infra) as (runtime, client), serve(runtime) as base:
        trip = Trip(infra)
        await deliver(runtime, trip.fact("booking.requested", "requested"))
        await deliver(runtime, trip.accepted())
        async with socket_for(base, trip.booking_id, token=trip.token("owner"), frames=None) as owner, \
                socket_for(base, trip.booking_id, token=trip.token("owner")) as ours:
            points = path(4)
            for lat, lng, at in points[:2]:
                await runtime.bus.publish_fast(PINGS, trip.ping(lat, lng, at))
            await deliver(runtime, trip.fact("booking.pet_picked_up", "in_progress"))
            await client.post(f"/api/v1/chat/{trip.booking_id}/messages", headers=trip.headers("runner"),
                              json={"message_type": "text", "content": "On my way"})
            for lat, lng, at in points[2:]:
                await runtime.bus.publish_fast(PINGS, trip.ping(lat, lng, at))
            await deliver(runtime, trip.fact("booking.delivery_confirmed", "delivered"))
            await deliver(runtime, trip.fact("booking.completed", "completed"))
            default_frames = await drain(owner)
            opted_in = await drain(ours)
        assert [f["latitude"] for f in default_frames] == [lat for lat, _, _ in points]
        for frame in default_frames:
            assert "latitude" in frame
            assert_original_location_frame(frame)
        kinds = [f["type"] for f in opted_in]
        assert kinds.count("location_update") == 4
        assert "chat_message" in kinds
        statuses = [f["booking_status"] for f in opted_in if f["type"] == "status"]
        assert statuses[:2] == ["in_progress", "delivered"]


async def test_an_unknown_frames_choice_is_refused(infra):
    async with running_service(descriptor, infra) as (runtime, _client), serve(runtime) as base:
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        with pytest.raises(InvalidStatus) as caught:
            async with socket_for(base, trip.booking_id, token=trip.token("owner"), frames="some"):
                pass
        assert caught.value.response.status_code == 400


async def test_the_owner_watches_a_booking_before_any_runner_accepts_it(infra, caplog, capfd):
    async with running_service(descriptor, infra) as (runtime, _client), serve(runtime) as base:
        trip = Trip(infra)
        await deliver(runtime, trip.fact("booking.requested", "requested", runner_id=None))
        with caplog.at_level(logging.ERROR):
            async with socket_for(base, trip.booking_id, token=trip.token("owner"),
                                  frames=None) as owner:
                await wait_for(lambda: live(runtime).hub.viewers(str(trip.booking_id)) == 1)
                await deliver(runtime, trip.accepted())
                lat, lng, at = path(1)[0]
                await runtime.bus.publish_fast(PINGS, trip.ping(lat, lng, at))
                frame = await next_frame(owner, timeout=2)
        assert_original_location_frame(frame)
        assert (frame["latitude"], frame["runner_id"]) == (lat, str(trip.runner_id))
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert "without completing handshake" not in capfd.readouterr().err


async def test_before_acceptance_strangers_and_runners_are_refused_and_unknown_bookings_are_404(
        infra, capfd):
    async with running_service(descriptor, infra) as (runtime, _client), serve(runtime) as base:
        trip = Trip(infra)
        await deliver(runtime, trip.fact("booking.requested", "requested", runner_id=None))
        stranger = auth_headers(infra, "owner")["Authorization"].removeprefix("Bearer ")
        for token, status in ((stranger, 403), (trip.token("runner"), 403)):
            with pytest.raises(InvalidStatus) as caught:
                async with socket_for(base, trip.booking_id, token=token, frames=None):
                    pass
            assert caught.value.response.status_code == status
        with pytest.raises(InvalidStatus) as caught:
            async with socket_for(base, uuid.uuid4(), token=trip.token("owner"), frames=None):
                pass
        assert caught.value.response.status_code == 404
        admin = auth_headers(infra, "admin")["Authorization"].removeprefix("Bearer ")
        async with socket_for(base, trip.booking_id, token=admin, frames=None):
            await wait_for(lambda: live(runtime).hub.viewers(str(trip.booking_id)) == 1)
    # a refusal is an HTTP answer to the handshake, not an error in the server's log
    assert "without completing handshake" not in capfd.readouterr().err
