"""Pings that need a trip lookup are queued, not handled inside the publisher's call; a runner
without a trip costs one lookup until a trip names them; a full queue drops the oldest pings; a runner's own socket does
not get its locations back."""

import asyncio
import json

from kilat.services.tracking import descriptor
from kilat.services.tracking.repository import Trips
from tests.service.tracking.support import (
    Trip,
    deliver,
    live,
    next_frame,
    path,
    serve,
    socket_for,
    stand_in_runner,
)
from tests.support.harness import running_service

PINGS = "runner.location_update"


def count_runner_lookups(monkeypatch) -> list:
    calls = []
    original = Trips.active_for_runner

    async def counted(self, runner_id):
        calls.append(runner_id)
        return await original(self, runner_id)

    monkeypatch.setattr(Trips, "active_for_runner", counted)
    return calls


async def test_the_publisher_never_waits_for_the_trip_lookup(infra):
    async with running_service(descriptor, infra) as (runtime, _client):
        trip = Trip(infra)
        await runtime.bus.publish_fast(PINGS, trip.ping(*path(1)[0], with_booking=False))
        assert live(runtime).outcomes["no_active_trip"] == 0
        await live(runtime).drain_pings()
        assert live(runtime).outcomes["no_active_trip"] == 1


async def test_a_runner_without_a_trip_is_looked_up_once_until_a_trip_names_them(infra, monkeypatch):
    lookups = count_runner_lookups(monkeypatch)
    async with running_service(descriptor, infra) as (runtime, _client), serve(runtime) as base:
        trip = Trip(infra)
        steps = path(4)
        for step in steps[:2]:
            await runtime.bus.publish_fast(PINGS, trip.ping(*step, with_booking=False))
            await live(runtime).drain_pings()
            await asyncio.sleep(0.1)  # longer than the test's trip_miss_ttl_seconds (0.05)
        assert live(runtime).outcomes["no_active_trip"] == 2 and len(lookups) == 1

        await deliver(runtime, trip.accepted())
        async with socket_for(base, trip.booking_id, token=trip.token("owner")) as owner:
            lat, lng, at = steps[2]
            await runtime.bus.publish_fast(PINGS, trip.ping(lat, lng, at, with_booking=False))
            frame = await next_frame(owner, "location_update")
        assert (frame["latitude"], frame["runner_id"]) == (lat, str(trip.runner_id))

        await deliver(runtime, trip.fact("booking.cancelled", "cancelled"))
        before = len(lookups)
        for step in steps[3:]:
            await runtime.bus.publish_fast(PINGS, trip.ping(*step, with_booking=False))
            await runtime.bus.publish_fast(PINGS, trip.ping(*step, with_booking=False))
        await live(runtime).drain_pings()
        assert len(lookups) == before + 1 and live(runtime).outcomes["no_active_trip"] == 4


async def test_a_full_queue_drops_the_oldest_pings(infra, monkeypatch):
    monkeypatch.setenv("KILAT_TRACKING_PING_QUEUE_LIMIT", "3")
    lookups = count_runner_lookups(monkeypatch)
    async with running_service(descriptor, infra) as (runtime, _client):
        strangers = [Trip(infra) for _ in range(5)]  # runners nobody has looked up yet
        for stranger in strangers:
            await runtime.bus.publish_fast(PINGS, stranger.ping(*path(1)[0], with_booking=False))
        await live(runtime).drain_pings()
        assert live(runtime).outcomes["dropped"] == 2 and live(runtime).outcomes["no_active_trip"] == 3
        assert lookups == [stranger.runner_id for stranger in strangers[2:]]


async def test_the_runner_socket_gets_no_echo_of_its_own_locations(infra):
    async with running_service(descriptor, infra) as (runtime, _client), serve(runtime) as base:
        trip = Trip(infra)
        await deliver(runtime, trip.accepted())
        await stand_in_runner(infra.bus)
        async with socket_for(base, trip.booking_id, token=trip.token("owner")) as owner, \
                socket_for(base, trip.booking_id, token=trip.token("runner")) as runner:
            lat, lng, at = path(1)[0]
            await runner.send(json.dumps({"type": "location", "latitude": lat, "longitude": lng,
                                          "accuracy_m": 5, "timestamp": at.isoformat()}))
            assert (await next_frame(owner, "location_update"))["latitude"] == lat
            await runner.send(json.dumps({"type": "ping"}))
            assert await next_frame(runner) == {"type": "pong"}
        assert live(runtime).outcomes["accepted"] == 1
