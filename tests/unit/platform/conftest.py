import pytest

from kilat.platform.db import Database, migrate
from tests.support.notes import descriptor as notes


@pytest.fixture
async def notes_db(tmp_path):
    """The kernel's test service's SQLite database in a temporary file, migrated to head."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}", service="notes")
    await migrate(database, notes.migrations_dir)
    yield database
    await database.dispose()
