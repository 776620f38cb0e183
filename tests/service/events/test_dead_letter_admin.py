"""Outbox → durable embedded bus → inbox, and the admin routes over dead letters."""

import asyncio
import uuid
from contextlib import asynccontextmanager
from dataclasses import replace

from sqlalchemy import MetaData, insert, select

from kilat.platform.events import Event
from kilat.platform.events.admin import dead_letter_router
from kilat.platform.events.local import LocalBus
from kilat.platform.events.tables import event_tables
from kilat.platform.runtime import Infrastructure
from tests.service.events.support import wait_for
from tests.support.harness import auth_headers, running_service
from tests.support.notes import descriptor
from tests.support.notes.models import NoteEcho

BASE = "/api/v1/admin/events/notes/dead-letters"
MAX_ATTEMPTS = 3


@asynccontextmanager
async def notes_on_local_bus(infra, tmp_path, *, handlers=descriptor.handlers):
    bus = LocalBus(tmp_path / "data" / "bus.db", max_attempts=MAX_ATTEMPTS, retry_base_seconds=0.01)
    await bus.start()
    local = Infrastructure(settings=infra.settings, bus=bus, verifier=infra.verifier,
                           issuer=infra.issuer)
    # the runtime mounts the dead-letter routes for a service with handlers; without handlers the
    # routes are added here to check that they answer sensibly with no consumer behind them
    routers = descriptor.routers if handlers is not None else [*descriptor.routers,
                                                               dead_letter_router("notes")]
    service = replace(descriptor, routers=routers, handlers=handlers)
    try:
        async with running_service(service, local) as (runtime, client):
            yield runtime, client
    finally:
        await bus.close()


async def create_note(client, infra, fail_times: int = 0) -> str:
    response = await client.post("/api/v1/notes", json={"text": "n", "fail_times": fail_times},
                                 headers=auth_headers(infra, "owner"))
    assert response.status_code == 201
    return response.json()["data"]["id"]


async def echoes(client, note_id: str) -> int:
    return (await client.get(f"/api/v1/notes/{note_id}/echoes")).json()["data"]


async def parked(client, infra, count: int = 1) -> list[dict]:
    async def listed():
        body = (await client.get(BASE, headers=auth_headers(infra, "admin"))).json()
        return body["data"] if len(body["data"]) >= count else None

    return await wait_for(listed)


async def test_note_event_goes_through_the_local_bus_and_is_handled_once(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (runtime, client):
        note_id = await create_note(client, infra, fail_times=1)
        await wait_for(lambda: echoes(client, note_id))
        outbox = event_tables(MetaData()).outbox
        async with runtime.database.session(write=False) as session:
            payload = (await session.execute(select(outbox.c.payload))).scalar_one()
        await runtime.bus.publish(Event.model_validate(payload))
        await asyncio.sleep(0.1)
        assert await echoes(client, note_id) == 1


async def test_a_conflict_in_the_handlers_own_writes_is_retried_not_taken_as_handled(infra, tmp_path):
    echo_id = uuid.uuid4()

    def conflicting(runtime) -> dict:
        async def on_note_created(session, event: Event) -> None:
            row = {"id": echo_id, "note_id": event.data["note_id"]}
            await session.execute(insert(NoteEcho).values(**row))
            await session.execute(insert(NoteEcho).values(**row))  # same key: IntegrityError

        return {"note.created": on_note_created}

    async with notes_on_local_bus(infra, tmp_path, handlers=conflicting) as (runtime, client):
        note_id = await create_note(client, infra)
        [letter] = await parked(client, infra)
        assert letter["payload"]["data"]["note_id"] == note_id
        assert letter["attempts"] == MAX_ATTEMPTS and "IntegrityError" in letter["error"]
        assert not await runtime.consumer.handled(uuid.UUID(letter["event_id"]))


async def test_dead_letters_are_listed_for_admins_newest_first_with_filter(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        first = await create_note(client, infra, fail_times=9)
        await parked(client, infra, 1)
        second = await create_note(client, infra, fail_times=9)
        letters = await parked(client, infra, 2)
        assert [letter["payload"]["data"]["note_id"] for letter in letters] == [second, first]
        assert letters[0]["attempts"] == MAX_ATTEMPTS and letters[0]["replayed_at"] is None
        assert letters[0]["consumer"] == "notes" and "planned failure" in letters[0]["error"]
        admin = auth_headers(infra, "admin")
        page = (await client.get(f"{BASE}?limit=1&page=2", headers=admin)).json()
        assert page["pagination"] == {"total": 2, "page": 2, "limit": 1, "total_pages": 2}
        assert page["data"][0]["payload"]["data"]["note_id"] == first
        replayed = (await client.get(f"{BASE}?replayed=true", headers=admin)).json()
        pending = (await client.get(f"{BASE}?replayed=false", headers=admin)).json()
        assert (replayed["pagination"]["total"], pending["pagination"]["total"]) == (0, 2)


async def test_replay_applies_the_event_once_and_a_second_replay_is_409(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        note_id = await create_note(client, infra, fail_times=MAX_ATTEMPTS)
        [letter] = await parked(client, infra)
        assert await echoes(client, note_id) == 0
        admin = auth_headers(infra, "admin")
        response = await client.post(f"{BASE}/{letter['id']}/replay", headers=admin)
        assert response.status_code == 200
        result = response.json()["data"]
        assert result["applied"] is True and result["event_id"] == letter["event_id"]
        assert await echoes(client, note_id) == 1
        again = await client.post(f"{BASE}/{letter['id']}/replay", headers=admin)
        assert again.status_code == 409 and again.json()["success"] is False
        assert await echoes(client, note_id) == 1
        replayed = (await client.get(f"{BASE}?replayed=true", headers=admin)).json()["data"]
        assert [r["id"] for r in replayed] == [letter["id"]] and replayed[0]["replayed_at"]


async def test_concurrent_replays_of_one_letter_apply_once_and_one_gets_409(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        note_id = await create_note(client, infra, fail_times=MAX_ATTEMPTS)
        [letter] = await parked(client, infra)
        admin = auth_headers(infra, "admin")
        responses = await asyncio.gather(*[
            client.post(f"{BASE}/{letter['id']}/replay", headers=admin) for _ in range(2)
        ])
        assert sorted(r.status_code for r in responses) == [200, 409]
        assert await echoes(client, note_id) == 1


async def test_replay_that_fails_again_is_422_and_leaves_the_letter_pending(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        note_id = await create_note(client, infra, fail_times=MAX_ATTEMPTS + 1)
        [letter] = await parked(client, infra)
        admin = auth_headers(infra, "admin")
        failed = await client.post(f"{BASE}/{letter['id']}/replay", headers=admin)
        assert failed.status_code == 422
        assert failed.json()["error"] == "replay failed" and "planned failure" in failed.json()["detail"]
        assert await echoes(client, note_id) == 0
        pending = (await client.get(f"{BASE}?replayed=false", headers=admin)).json()["data"]
        assert [p["id"] for p in pending] == [letter["id"]]
        retried = await client.post(f"{BASE}/{letter['id']}/replay", headers=admin)
        assert retried.status_code == 200 and await echoes(client, note_id) == 1


async def test_replay_of_an_event_handled_meanwhile_marks_it_without_running_again(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (runtime, client):
        note_id = await create_note(client, infra, fail_times=MAX_ATTEMPTS)
        [letter] = await parked(client, infra)
        event = Event.model_validate(letter["payload"])
        assert await runtime.consumer.handle(event, runtime.consumer.handler_for(event.type))
        response = await client.post(f"{BASE}/{letter['id']}/replay",
                                     headers=auth_headers(infra, "admin"))
        assert response.status_code == 200 and response.json()["data"]["applied"] is False
        assert await echoes(client, note_id) == 1


async def test_unknown_letter_is_404_and_malformed_id_is_400(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        admin = auth_headers(infra, "admin")
        missing = await client.post(f"{BASE}/{uuid.uuid4()}/replay", headers=admin)
        malformed = await client.post(f"{BASE}/not-a-uuid/replay", headers=admin)
        bad_filter = await client.get(f"{BASE}?replayed=perhaps", headers=admin)
        assert (missing.status_code, malformed.status_code, bad_filter.status_code) == (404, 400, 400)
        assert missing.json() == {"success": False, "error": "Dead letter not found",
                                  "detail": missing.json()["detail"]}


async def test_dead_letter_routes_are_for_admins_only(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        await create_note(client, infra, fail_times=MAX_ATTEMPTS)
        [letter] = await parked(client, infra)
        owner = auth_headers(infra, "owner")
        calls = [
            client.get(BASE),
            client.get(BASE, headers=owner),
            client.post(f"{BASE}/{letter['id']}/replay"),
            client.post(f"{BASE}/{letter['id']}/replay", headers=owner),
        ]
        assert [r.status_code for r in await asyncio.gather(*calls)] == [401, 403, 401, 403]
        still = await client.get(f"{BASE}?replayed=false", headers=auth_headers(infra, "admin"))
        assert still.json()["pagination"]["total"] == 1


async def test_service_without_consumer_lists_nothing_and_replays_nothing(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path, handlers=None) as (runtime, client):
        assert runtime.consumer is None
        admin = auth_headers(infra, "admin")
        listed = await client.get(BASE, headers=admin)
        assert listed.status_code == 200 and listed.json()["data"] == []
        replayed = await client.post(f"{BASE}/{uuid.uuid4()}/replay", headers=admin)
        assert replayed.status_code == 404


async def test_openapi_declares_the_envelopes_and_error_codes(infra, tmp_path):
    async with notes_on_local_bus(infra, tmp_path) as (_, client):
        spec = (await client.get("/openapi.json")).json()
        listing = spec["paths"][BASE]["get"]
        replay = spec["paths"][BASE + "/{dead_letter_id}/replay"]["post"]
        assert {"200", "401", "403"} <= set(listing["responses"])
        assert {"200", "401", "403", "404", "409", "422"} <= set(replay["responses"])
        assert "Page_DeadLetter_" in listing["responses"]["200"]["content"]["application/json"][
            "schema"]["$ref"]
