"""Waiting for a booking's event while the booking service is down; the booking client; the relay."""

import asyncio

from kilat.contracts import Contract
from kilat.platform.events import record_event


class Probe(Contract):
    TYPE = "payment.probe"

    n: int


async def test_payment_waits_for_the_event_while_the_booking_service_is_down(world):
    world.ctx.settings.booking_lookup_wait_seconds = 3.0
    del world.infra.service_apps["booking"]
    owner = world.person("owner")
    booking = await world.book(owner, announce=False)

    async def announce_later():
        await asyncio.sleep(0.6)
        await world.publish("booking.requested", {
            "booking_id": booking, "owner_id": str(owner.user_id), "runner_id": None,
            "status": "requested", "estimated_price_cents": 4423, "currency": "MYR"})

    task = asyncio.create_task(announce_later())
    response = await world.pay(owner, booking)
    await task
    assert response.status_code == 201
    assert response.json()["data"]["escrow_status"] == "held"


async def test_reads_of_the_booking_service_share_one_client_until_it_moves(world):
    owner = world.person("owner")
    first = await world.book(owner, announce=False)
    second = await world.book(owner, announce=False)
    assert (await world.pay(owner, first)).status_code == 201
    client = world.ctx.clients["booking"][1]
    assert (await world.pay(owner, second)).status_code == 201
    assert world.ctx.clients["booking"][1] is client and not client.is_closed
    del world.infra.service_apps["booking"]
    third = await world.book(owner, announce=False)
    assert (await world.pay(owner, third)).status_code == 503
    assert client.is_closed


async def test_the_relay_publishes_without_holding_the_write_lock(world, monkeypatch):
    gate, publishing = asyncio.Event(), asyncio.Event()
    publish = world.infra.bus.publish

    async def slow_publish(event):
        publishing.set()
        await gate.wait()
        await publish(event)

    monkeypatch.setattr(world.infra.bus, "publish", slow_publish)
    async with world.runtime.database.session() as session:
        await record_event(session, Probe(n=1))
    await asyncio.wait_for(publishing.wait(), timeout=5)
    async with asyncio.timeout(2):  # a writer is not queued behind the bus
        async with world.runtime.database.session() as session:
            await record_event(session, Probe(n=2))
    gate.set()
    probes = await world.await_events("payment.probe", count=2)
    assert sorted(p["n"] for p in probes) == [1, 2]


async def test_a_drain_returns_only_once_what_was_pending_is_published(world, monkeypatch):
    gate, publishing, published, seen = asyncio.Event(), asyncio.Event(), [], set()
    publish = world.infra.bus.publish

    async def slow_publish(event):
        if event.id in seen:
            return  # a duplicate: the bus drops it at once, as every bus does
        seen.add(event.id)
        publishing.set()
        await gate.wait()
        await publish(event)
        published.append(event.type)

    monkeypatch.setattr(world.infra.bus, "publish", slow_publish)
    async with world.runtime.database.session() as session:
        await record_event(session, Probe(n=1))
    await asyncio.wait_for(publishing.wait(), timeout=5)  # the background relay is publishing it
    drain = asyncio.create_task(world.runtime.relay.drain())
    await asyncio.sleep(0.1)
    assert not drain.done()  # it waits for the drain under way instead of skipping past it
    gate.set()
    await asyncio.wait_for(drain, timeout=5)
    assert "payment.probe" in published
