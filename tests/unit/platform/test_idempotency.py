"""Idempotency-Key on a route over a real SQLite file: a retry replays, another body is 409,
no key runs as usual, expired keys are purged."""

from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from kilat.platform.http import Session, install_error_handlers
from kilat.platform.idempotency import create_idempotency_table, idempotent, purge_expired_keys
from kilat.platform.models import utcnow
from kilat.platform.schemas import Schema
from tests.support.notes.models import Note


class NoteCreate(Schema):
    text: str


@pytest.fixture
async def client(notes_db):
    async with notes_db.engine.begin() as conn:
        await conn.run_sync(create_idempotency_table)
    app = FastAPI()
    app.state.runtime = SimpleNamespace(database=notes_db)
    install_error_handlers(app)

    @app.post("/notes", status_code=201)
    @idempotent
    async def create_note(body: NoteCreate, session: Session) -> dict:
        note = Note(text=body.text)
        session.add(note)
        await session.flush()
        return {"id": str(note.id)}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def stored_notes(database) -> int:
    async with database.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(Note))


async def test_the_same_key_and_body_replays_the_first_response_without_a_second_effect(
        client, notes_db):
    headers = {"Idempotency-Key": "k-1"}
    first = await client.post("/notes", json={"text": "hello"}, headers=headers)
    again = await client.post("/notes", json={"text": "hello"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await stored_notes(notes_db) == 1


async def test_the_same_key_with_another_body_is_409(client, notes_db):
    headers = {"Idempotency-Key": "k-2"}
    assert (await client.post("/notes", json={"text": "a"}, headers=headers)).status_code == 201
    refused = await client.post("/notes", json={"text": "b"}, headers=headers)
    assert refused.status_code == 409 and refused.json()["success"] is False
    assert await stored_notes(notes_db) == 1


async def test_a_request_without_a_key_runs_every_time(client, notes_db):
    for _ in range(2):
        assert (await client.post("/notes", json={"text": "a"})).status_code == 201
    assert await stored_notes(notes_db) == 2


async def test_expired_keys_are_purged_and_live_ones_kept(client, notes_db):
    await client.post("/notes", json={"text": "a"}, headers={"Idempotency-Key": "k-3"})
    async with notes_db.session() as session:
        assert await purge_expired_keys(session) == 0
        assert await purge_expired_keys(session, now=utcnow() + timedelta(days=2)) == 1
