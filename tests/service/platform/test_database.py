"""SQLite units of work: reads run inline beside the queued writer and see what it committed."""

import asyncio

import pytest
from sqlalchemy import text

from kilat.platform.db import Database


@pytest.fixture
async def database(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}", service="svc")
    async with database.session() as session:
        await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield database
    await database.dispose()


async def count(database: Database) -> int:
    async with database.session(write=False) as session:
        return await session.scalar(text("SELECT count(*) FROM notes"))


async def test_a_read_sees_what_a_write_committed(database):
    async with database.session() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('hello')"))
    async with database.session(write=False) as session:
        assert (await session.execute(text("SELECT body FROM notes"))).scalars().all() == ["hello"]


async def test_a_read_does_not_wait_for_a_write_in_progress(database):
    async with database.session() as session:
        await session.execute(text("INSERT INTO notes (body) VALUES ('pending')"))
        assert await asyncio.wait_for(count(database), timeout=2) == 0
    assert await count(database) == 1


async def test_a_failed_read_rolls_back_and_the_next_read_works(database):
    with pytest.raises(Exception, match="no such table"):
        async with database.session(write=False) as session:
            await session.execute(text("SELECT * FROM missing"))
    assert await count(database) == 0


async def test_concurrent_reads_and_writes_all_complete(database):
    async def write(index: int) -> None:
        async with database.session() as session:
            await session.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": str(index)})

    results = await asyncio.gather(*(write(i) for i in range(20)), *(count(database) for _ in range(20)))
    assert all(0 <= n <= 20 for n in results[20:])
    assert await count(database) == 20
