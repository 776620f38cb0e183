"""kilat migrate against a real PostgreSQL server."""

import json

import asyncpg

from kilat.platform.db import drop_database
from tests.support.cli import kilat
from tests.support.harness import postgres_database_url, require_postgres


async def test_migrate_creates_the_identity_database_on_postgres():
    require_postgres()
    url = postgres_database_url("kilat_identity")
    try:
        result = kilat("migrate", "identity", "--distributed",
                       env={"KILAT_DATABASE_URLS": json.dumps({"identity": url})})
        assert result.returncode == 0, result.stderr + result.stdout
        dsn = url.replace("postgresql+asyncpg", "postgresql")
        conn = await asyncpg.connect(dsn)
        try:
            tables = {r["tablename"] for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        finally:
            await conn.close()
        assert {"users", "event_outbox", "event_inbox", "alembic_version"} <= tables
        again = kilat("migrate", "identity", "--distributed",
                      env={"KILAT_DATABASE_URLS": json.dumps({"identity": url})})
        assert again.returncode == 0, "migrating twice is harmless"
    finally:
        await drop_database(url)
