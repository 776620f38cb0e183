"""Outbox → NATS JetStream → inbox with the notes kernel-test service, on PostgreSQL."""

import asyncio

from sqlalchemy import MetaData, func, select, update

from kilat.platform.events import Event
from kilat.platform.events.tables import event_tables
from tests.integration.events.support import make_bus, notes_on_nats, private_nats, started
from tests.service.events.support import wait_for
from tests.support.harness import auth_headers, postgres_database_url, require_postgres
from tests.support.notes.handlers import ATTEMPTS

TABLES = event_tables(MetaData())
DEAD_LETTERS = "/api/v1/admin/events/notes/dead-letters"


async def create_note(client, infra, fail_times: int = 0) -> str:
    response = await client.post("/api/v1/notes", json={"text": "n", "fail_times": fail_times},
                                 headers=auth_headers(infra, "owner"))
    assert response.status_code == 201
    return response.json()["data"]["id"]


async def echoes(client, note_id: str) -> int:
    return (await client.get(f"/api/v1/notes/{note_id}/echoes")).json()["data"]


async def unpublished(runtime) -> int:
    outbox = TABLES.outbox
    async with runtime.database.session(write=False) as session:
        return await session.scalar(select(func.count()).where(outbox.c.published_at.is_(None)))


async def unpublished_is(runtime, expected: int) -> bool:
    return await unpublished(runtime) == expected


async def settled(jetstream, stream_name: str, stream_messages: int) -> bool:
    """The notes consumer has been given every stored message and has no ack outstanding."""
    stream = await jetstream.stream_info(stream_name)
    consumer = await jetstream.consumer_info(stream_name, "notes")
    return (stream.state.messages == stream_messages and consumer.num_pending == 0
            and consumer.num_ack_pending == 0 and consumer.delivered.stream_seq == stream_messages)


async def test_outbox_event_is_applied_exactly_once_through_redeliveries(infra, namespace,
                                                                         jetstream):
    require_postgres()
    async with started(make_bus(namespace)) as bus, \
            notes_on_nats(infra, bus, postgres_database_url("kilat_events")) as (runtime, client):
        note_id = await create_note(client, infra, fail_times=1)
        await wait_for(lambda: echoes(client, note_id))
        assert ATTEMPTS[note_id] == 2, "the first attempt failed and NATS redelivered"
        await wait_for(lambda: settled(jetstream, namespace.stream, 1))

        # the relay crashed between publish and mark: the row goes again, the broker drops it
        outbox = TABLES.outbox
        async with runtime.database.session() as session:
            payload = await session.scalar(select(outbox.c.payload))
            await session.execute(update(outbox).values(published_at=None))
        runtime.relay.wake()
        await wait_for(lambda: unpublished_is(runtime, 0))
        await bus.publish(Event.model_validate(payload))
        assert await settled(jetstream, namespace.stream, 1)

        # past the duplicate window the same event is stored again; the inbox absorbs it
        subject = f"{namespace.prefix}.events.note.created"
        await jetstream.publish(subject, Event.model_validate(payload).to_json())
        await wait_for(lambda: settled(jetstream, namespace.stream, 2))
        assert await echoes(client, note_id) == 1
        assert ATTEMPTS[note_id] == 2


async def test_relay_resumes_after_the_broker_restarts_without_loss_or_duplicates(
        infra, namespace, tmp_path):
    require_postgres()
    with private_nats(tmp_path / "jetstream") as server:
        async with started(make_bus(namespace, url=server.url)) as bus, \
                notes_on_nats(infra, bus, postgres_database_url("kilat_events")) as (runtime, client):
            before = [await create_note(client, infra) for _ in range(3)]
            await wait_for(lambda: all_echoed(client, before))

            server.kill()
            await wait_for(lambda: not bus.is_connected)
            during = [await create_note(client, infra) for _ in range(3)]
            await wait_for(lambda: unpublished_is(runtime, 3))
            readiness = await client.get("/readiness")
            assert readiness.status_code == 503 and "error" in readiness.json()["checks"]["broker"]

            server.start()
            await wait_for(lambda: all_echoed(client, before + during), timeout=15)
            after = [await create_note(client, infra)]
            await wait_for(lambda: all_echoed(client, before + during + after))
            await asyncio.sleep(0.3)
            assert [await echoes(client, n) for n in before + during + after] == [1] * 7
            assert await unpublished(runtime) == 0
            assert (await client.get("/readiness")).status_code == 200


async def all_echoed(client, note_ids: list[str]) -> bool:
    counts = [await echoes(client, n) for n in note_ids]
    assert max(counts, default=0) <= 1, f"an effect happened twice: {counts}"
    return all(c == 1 for c in counts)


async def test_failing_handler_is_dead_lettered_then_replayed_once_over_http(infra, namespace,
                                                                              jetstream):
    async with started(make_bus(namespace, max_attempts=3)) as bus, \
            notes_on_nats(infra, bus) as (runtime, client):
        note_id = await create_note(client, infra, fail_times=3)
        admin = auth_headers(infra, "admin")

        async def parked():
            body = (await client.get(DEAD_LETTERS, headers=admin)).json()
            return body["data"]

        [letter] = await wait_for(parked)
        assert letter["attempts"] == 3 and letter["payload"]["data"]["note_id"] == note_id
        await wait_for(lambda: settled(jetstream, namespace.stream, 1))
        await asyncio.sleep(0.3)
        assert ATTEMPTS[note_id] == 3, "no delivery after the dead letter was acknowledged"

        replayed = await client.post(f"{DEAD_LETTERS}/{letter['id']}/replay", headers=admin)
        assert replayed.status_code == 200 and replayed.json()["data"]["applied"] is True
        assert await echoes(client, note_id) == 1
        again = await client.post(f"{DEAD_LETTERS}/{letter['id']}/replay", headers=admin)
        assert again.status_code == 409
        assert await echoes(client, note_id) == 1
