"""The hand-written migrations build exactly the schema the models describe."""

import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from kilat.platform.db import Database, migrate
from kilat.platform.models import utcnow
from kilat.services import notification
from kilat.services.notification.models import metadata
from tests.service.notification.support import notification_service


def differences(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_migrated_schema_matches_the_models(infra):
    async with notification_service(infra) as (runtime, _):
        async with runtime.database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []


async def test_the_addressed_step_keeps_notifications_and_their_deliveries(tmp_path):
    """SQLite rebuilds notifications for it, and the drop would cascade to the deliveries."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'notification.db'}",
                        service="notification")
    migrations = Path(notification.__file__).parent / "migrations"
    note, now = uuid.uuid4(), utcnow()
    try:
        await migrate(database, migrations, "0001")
        async with database.engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO notifications (id, user_id, event_type, fact_key, title, body, locale, "
                "status, is_read, channels_sent, channels_failed, metadata, created_at, updated_at) "
                "VALUES (:id, :user, 'x', 'x:1', 'T', 'B', 'en', 'pending', 0, '[]', '[]', '{}', "
                ":now, :now)"), {"id": note.hex, "user": uuid.uuid4().hex, "now": now})
            await connection.execute(text(
                "INSERT INTO notification_deliveries (id, notification_id, user_id, channel, "
                "address, subject, body, sensitive, status, attempts, max_retries, "
                "next_attempt_at, created_at, updated_at) VALUES (:id, :note, :user, 'sms', "
                "'+60123456789', 'T', 'B', 0, 'pending', 0, 3, :now, :now, :now)"),
                {"id": uuid.uuid4().hex, "note": note.hex, "user": uuid.uuid4().hex, "now": now})
        await migrate(database, migrations)
        async with database.engine.connect() as connection:
            delivered = (await connection.execute(text(
                "SELECT notification_id FROM notification_deliveries"))).scalars().all()
            assert delivered == [note.hex]
            assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
    finally:
        await database.dispose()
