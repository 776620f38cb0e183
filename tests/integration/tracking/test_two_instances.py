"""The distributed profile: two tracking processes on NATS and one PostgreSQL database deliver
every position, chat message and status change to every viewer, whichever instance each viewer
is connected to, and store each ping once."""

import asyncio
from contextlib import AsyncExitStack

import httpx
from sqlalchemy import func, select

from kilat.platform.db import drop_database
from kilat.platform.runtime import ServiceRuntime, create_service_app
from kilat.services.tracking import descriptor
from kilat.services.tracking.models import Trip as TripRow
from kilat.services.tracking.models import waypoints
from tests.service.tracking.support import (
    Trip,
    live,
    next_frame,
    path,
    serve,
    socket_for,
    wait_for,
)

PINGS = "runner.location_update"


async def start_instance(stack: AsyncExitStack, nats_space, infra, url: str) -> ServiceRuntime:
    bus = nats_space.bus()
    await bus.start()
    stack.push_async_callback(bus.close)
    runtime = ServiceRuntime(descriptor, nats_space.infra(infra, bus), database_url=url)
    await runtime.start()
    stack.push_async_callback(runtime.stop)
    return runtime


async def test_a_ping_reaches_sockets_on_both_instances_and_is_stored_once(infra, postgres_url, nats_space):
    async with AsyncExitStack() as stack:
        stack.push_async_callback(drop_database, postgres_url)
        first = await start_instance(stack, nats_space, infra, postgres_url)
        second = await start_instance(stack, nats_space, infra, postgres_url)
        runner_service = nats_space.bus()
        await runner_service.start()
        stack.push_async_callback(runner_service.close)
        base_one = await stack.enter_async_context(serve(first))
        base_two = await stack.enter_async_context(serve(second))

        trip = Trip(infra)
        await runner_service.publish(trip.accepted())

        async def trip_started():
            async with first.database.session(write=False) as session:
                return await session.scalar(select(TripRow).where(TripRow.booking_id == trip.booking_id))

        await wait_for(trip_started)
        owner = await stack.enter_async_context(
            socket_for(base_one, trip.booking_id, token=trip.token("owner")))
        admin = await stack.enter_async_context(
            socket_for(base_two, trip.booking_id, token=trip.token("admin")))

        steps = path(5)
        for step in steps:
            await runner_service.publish_fast(PINGS, trip.ping(*step))
        for viewer in (owner, admin):
            frames = [await next_frame(viewer, "location_update") for _ in steps]
            assert [f["latitude"] for f in frames] == [lat for lat, _, _ in steps]

        await live(first).writer.flush()
        await live(second).writer.flush()
        assert live(first).writer.stats.written == live(second).writer.stats.written == 5
        async with first.database.session(write=False) as session:
            assert await session.scalar(select(func.count()).select_from(waypoints)) == 5

        async with first_client(first) as client:
            sent = await client.post(f"/api/v1/chat/{trip.booking_id}/messages",
                                     headers=trip.headers("owner"),
                                     json={"message_type": "text", "content": "Hello from instance one"})
            assert sent.status_code == 201
        assert (await next_frame(admin, "chat_message"))["content"] == "Hello from instance one"
        assert (await next_frame(owner, "chat_message"))["content"] == "Hello from instance one"

        await runner_service.publish(trip.fact("booking.delivery_confirmed", "delivered"))
        for viewer in (owner, admin):
            status = await next_frame(viewer, "status", timeout=5)
            assert (status["status"], status["total_distance_km"]) == ("completed", 0.2)
        await asyncio.sleep(0.05)
        for runtime in (first, second):
            assert not live(runtime).trips.peek(trip.booking_id).snapshot.is_active

        await runner_service.publish_fast(PINGS, trip.ping(*path(1)[0]))

        async def both_refused():
            return all(live(r).outcomes["no_active_trip"] == 1 for r in (first, second))

        await wait_for(both_refused)


def first_client(runtime: ServiceRuntime) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_service_app(runtime))
    return httpx.AsyncClient(transport=transport, base_url="http://tracking")
