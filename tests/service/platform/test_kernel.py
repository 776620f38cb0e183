"""The kernel through a tiny service: envelope, errors, locking, outbox → bus → inbox."""

import asyncio
import uuid

from sqlalchemy import MetaData, select

from kilat.platform.events.admin import replay
from kilat.platform.events.tables import event_tables
from tests.support.harness import auth_headers, running_service, wait_for
from tests.support.notes import descriptor
from tests.support.notes.handlers import ATTEMPTS


async def test_create_returns_enveloped_201_with_request_id_and_security_headers(infra):
    async with running_service(descriptor, infra) as (_, client):
        response = await client.post("/api/v1/notes", json={"text": "hi"},
                                     headers=auth_headers(infra, "owner") | {"X-Request-ID": "abc"})
        assert response.status_code == 201
        body = response.json()
        assert body["success"] is True and body["data"]["text"] == "hi"
        assert response.headers["x-request-id"] == "abc"
        assert response.headers["x-frame-options"] == "DENY"


async def test_validation_error_is_400_in_envelope(infra):
    async with running_service(descriptor, infra) as (_, client):
        response = await client.post("/api/v1/notes", json={"nope": 1},
                                     headers=auth_headers(infra, "owner"))
        assert response.status_code == 400
        assert response.json()["success"] is False
        assert "text" in response.json()["error"]


async def test_missing_and_bad_tokens_are_401_and_wrong_role_403(infra):
    async with running_service(descriptor, infra) as (_, client):
        missing = await client.post("/api/v1/notes", json={"text": "x"})
        bad = await client.post("/api/v1/notes", json={"text": "x"},
                                headers={"Authorization": "Bearer nope"})
        role = await client.get("/api/v1/notes", headers=auth_headers(infra, "owner"))
        assert (missing.status_code, bad.status_code, role.status_code) == (401, 401, 403)
        assert missing.json() == {"success": False, "error": "authorization header is required",
                                  "detail": ""}
        assert bad.json()["error"] == "invalid or expired token"


async def test_pagination_envelope(infra):
    async with running_service(descriptor, infra) as (_, client):
        owner = auth_headers(infra, "owner")
        for i in range(3):
            await client.post("/api/v1/notes", json={"text": f"n{i}"}, headers=owner)
        response = await client.get("/api/v1/notes?page=2&limit=2",
                                    headers=auth_headers(infra, "admin"))
        body = response.json()
        assert body["pagination"] == {"total": 3, "page": 2, "limit": 2, "total_pages": 2}
        assert len(body["data"]) == 1


async def test_event_is_relayed_and_handled_exactly_once_even_when_redelivered(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        response = await client.post("/api/v1/notes", json={"text": "e"},
                                     headers=auth_headers(infra, "owner"))
        note_id = response.json()["data"]["id"]

        async def echoed():
            r = await client.get(f"/api/v1/notes/{note_id}/echoes")
            return r.json()["data"] == 1

        await wait_for(echoed)
        outbox = event_tables(MetaData()).outbox
        async with runtime.database.session() as session:
            payload = (await session.execute(select(outbox.c.payload))).scalar_one()
        from kilat.platform.events import Event
        from kilat.platform.events.bus import Delivery
        await runtime.consumer(Delivery(Event.model_validate(payload), 1, 5))
        await asyncio.sleep(0.1)
        assert (await client.get(f"/api/v1/notes/{note_id}/echoes")).json()["data"] == 1


async def test_failing_handler_is_retried_then_succeeds(infra):
    async with running_service(descriptor, infra) as (_, client):
        response = await client.post("/api/v1/notes", json={"text": "r", "fail_times": 2},
                                     headers=auth_headers(infra, "owner"))
        note_id = response.json()["data"]["id"]

        async def echoed():
            return (await client.get(f"/api/v1/notes/{note_id}/echoes")).json()["data"] == 1

        await wait_for(echoed)
        assert ATTEMPTS[note_id] == 3


async def test_handler_failing_every_time_is_dead_lettered_and_replayable(infra):
    async with running_service(descriptor, infra) as (runtime, client):
        response = await client.post("/api/v1/notes", json={"text": "d", "fail_times": 5},
                                     headers=auth_headers(infra, "owner"))
        note_id = response.json()["data"]["id"]
        dead = event_tables(MetaData()).dead_letters

        async def parked():
            async with runtime.database.session(write=False) as session:
                return (await session.execute(select(dead.c.id))).scalar_one_or_none()

        dead_id = await wait_for(parked)
        assert (await client.get(f"/api/v1/notes/{note_id}/echoes")).json()["data"] == 0
        async with runtime.database.session() as session:
            result = await replay(session, runtime.consumer, dead_id)
        assert result.applied is True
        assert (await client.get(f"/api/v1/notes/{note_id}/echoes")).json()["data"] == 1


async def test_concurrent_updates_with_same_version_one_wins_one_409(infra):
    async with running_service(descriptor, infra) as (_, client):
        owner = auth_headers(infra, "owner")
        note = (await client.post("/api/v1/notes", json={"text": "v"}, headers=owner)).json()["data"]
        results = await asyncio.gather(*[
            client.put(f"/api/v1/notes/{note['id']}", json={"text": f"t{i}", "version": 1})
            for i in range(2)
        ])
        assert sorted(r.status_code for r in results) == [200, 409]


async def test_unknown_path_is_404_envelope(infra):
    async with running_service(descriptor, infra) as (_, client):
        response = await client.get(f"/api/v1/notes/{uuid.uuid4()}/nothing")
        assert response.status_code in (404, 405)
        assert response.json()["success"] is False
