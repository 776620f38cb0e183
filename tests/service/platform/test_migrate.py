"""``migrate`` on start-up: a database at head is left alone, a new revision is applied."""

import textwrap
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from kilat.platform.db import Database, at_head, migrate

ENV = "from sqlalchemy import MetaData\n" \
      "from kilat.platform.migrations import run_env\n\nrun_env(MetaData())\n"


def revision_file(revision: str, down: str | None, table: str) -> str:
    return textwrap.dedent(f'''
        import sqlalchemy as sa
        from alembic import op

        revision = "{revision}"
        down_revision = {down!r}


        def upgrade() -> None:
            op.create_table("{table}", sa.Column("id", sa.Integer, primary_key=True))


        def downgrade() -> None:
            op.drop_table("{table}")
    ''')


@pytest.fixture
def migrations(tmp_path) -> Path:
    root = tmp_path / "migrations"
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(ENV)
    (root / "versions" / "0001_first.py").write_text(revision_file("0001", None, "first"))
    return root


@pytest.fixture
async def database(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}", service="svc")
    yield database
    await database.dispose()


async def tables_and_version(database: Database) -> tuple[set[str], set[str]]:
    async with database.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        versions = {row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))}
    return tables, versions


async def test_a_new_database_is_migrated_to_head(database, migrations):
    assert not await at_head(database, migrations)
    await migrate(database, migrations)
    assert await tables_and_version(database) == ({"alembic_version", "first"}, {"0001"})
    assert await at_head(database, migrations)


async def test_a_restart_at_head_runs_no_migration_environment(database, migrations):
    await migrate(database, migrations)
    (migrations / "env.py").write_text("raise RuntimeError('the migration environment ran')\n")
    await migrate(database, migrations)
    assert await tables_and_version(database) == ({"alembic_version", "first"}, {"0001"})


async def test_a_revision_added_since_the_last_start_is_applied(database, migrations):
    await migrate(database, migrations)
    (migrations / "versions" / "0002_second.py").write_text(revision_file("0002", "0001", "second"))
    assert not await at_head(database, migrations)
    await migrate(database, migrations)
    assert await tables_and_version(database) == ({"alembic_version", "first", "second"}, {"0002"})


async def test_an_explicit_older_target_still_goes_through_alembic(database, migrations):
    (migrations / "versions" / "0002_second.py").write_text(revision_file("0002", "0001", "second"))
    await migrate(database, migrations, "0001")
    assert await tables_and_version(database) == ({"alembic_version", "first"}, {"0001"})
