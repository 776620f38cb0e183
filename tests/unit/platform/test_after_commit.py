"""after_commit on a real SQLite unit of work: after commit only, never on rollback."""

import asyncio

import pytest

from kilat.platform.db import after_commit
from tests.support.notes.models import Note


async def until_run(seen: list, timeout: float = 1.0) -> None:
    async with asyncio.timeout(timeout):
        while not seen:
            await asyncio.sleep(0)


async def test_a_callback_runs_once_the_transaction_has_committed(notes_db):
    seen: list[int] = []
    async with notes_db.session() as session:
        session.add(Note(text="hello"))
        after_commit(session, lambda: seen.append(1))
        await session.flush()
        await asyncio.sleep(0)
        assert seen == [], "nothing runs before commit"
    await until_run(seen)
    assert seen == [1]


async def test_a_callback_never_runs_when_the_transaction_rolls_back(notes_db):
    seen: list[int] = []
    with pytest.raises(RuntimeError):
        async with notes_db.session() as session:
            session.add(Note(text="doomed"))
            after_commit(session, lambda: seen.append(1))
            await session.flush()
            raise RuntimeError("the unit of work fails")
    for _ in range(10):
        await asyncio.sleep(0)
    assert seen == []


async def test_an_awaitable_result_runs_as_a_task_to_its_end(notes_db):
    seen: list[str] = []

    async def tell_sockets() -> None:
        await asyncio.sleep(0.01)
        seen.append("told")

    async with notes_db.session() as session:
        session.add(Note(text="hello"))
        after_commit(session, tell_sockets)
    await until_run(seen)
    assert seen == ["told"]


async def test_the_callback_sees_the_committed_state(notes_db):
    counts: list[int] = []

    async def count_notes() -> None:
        async with notes_db.session(write=False) as session:
            counts.append(len((await session.scalars(Note.__table__.select())).all()))

    async with notes_db.session() as session:
        session.add(Note(text="hello"))
        after_commit(session, count_notes)
    await until_run(counts)
    assert counts == [1]
