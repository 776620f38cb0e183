"""A PostgreSQL server out of connection slots answers 503 (and retried events), never 500."""

import uuid

import asyncpg
import pytest
from sqlalchemy import text

from kilat.platform.db import Database
from kilat.platform.errors import ServiceUnavailable
from kilat.platform.events.bus import is_unavailable
from tests.support.harness import POSTGRES_URL, require_postgres

ADMIN_DSN = POSTGRES_URL.replace("postgresql+asyncpg", "postgresql") + "/postgres"


async def test_a_server_out_of_connections_is_unavailable_not_an_internal_error():
    require_postgres()
    role = f"kilat_limited_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1")
    url = POSTGRES_URL.replace("postgres@", f"{role}@") + "/postgres"
    holder = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    database = Database(url, service="capacity", pool_size=1, max_overflow=0)
    try:
        with pytest.raises(ServiceUnavailable) as refused:
            async with database.session(write=False) as session:
                await session.execute(text("SELECT 1"))
        assert is_unavailable(refused.value) and refused.value.status_code == 503
        await holder.close()
        async with database.session(write=False) as session:  # a free slot: works again
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await database.dispose()
        if not holder.is_closed():
            await holder.close()
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()
