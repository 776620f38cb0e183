"""The hand-written migrations build exactly the tables the models describe, and reverse cleanly."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from kilat.platform.db import Database, alembic_config, migrate
from kilat.services.booking import descriptor
from kilat.services.booking.models import metadata


async def test_migrated_schema_matches_the_models(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'booking.db'}", service="booking")
    try:
        await migrate(database, descriptor.migrations_dir)
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == []
    finally:
        await database.dispose()


async def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'booking.db'}", service="booking")
    config = alembic_config(descriptor.migrations_dir)

    def downgrade(sync_conn) -> list[str]:
        config.attributes["connection"] = sync_conn
        command.downgrade(config, "base")
        return inspect(sync_conn).get_table_names()

    try:
        await migrate(database, descriptor.migrations_dir)
        async with database.engine.begin() as conn:
            assert await conn.run_sync(downgrade) == ["alembic_version"]
        await migrate(database, descriptor.migrations_dir)
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert set(metadata.tables) <= tables
    finally:
        await database.dispose()
