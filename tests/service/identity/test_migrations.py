"""The hand-written migrations build exactly the schema the models describe, and the phone
sign-in step keeps the accounts and sessions made before it."""

import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from kilat.platform.db import Database, migrate
from kilat.platform.models import utcnow
from kilat.services import identity
from kilat.services.identity.models import metadata


def differences(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_migrated_schema_matches_the_models(identity):
    runtime, _ = identity
    async with runtime.database.engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_the_phone_sign_in_step_keeps_accounts_sessions_and_referrals(tmp_path):
    """SQLite rebuilds the users table for it; the rows that reference users must survive."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}", service="identity")
    migrations = Path(identity.__file__).parent / "migrations"
    try:
        await migrate(database, migrations, "0001")
        ids = [uuid.uuid4() for _ in range(2)]
        now = utcnow()
        async with database.engine.begin() as connection:
            for n, user_id in enumerate(ids):
                await connection.execute(text(
                    "INSERT INTO users (id, email, password_hash, full_name, role, is_verified, "
                    "is_banned, version, created_at, updated_at) VALUES (:id, :email, 'h', 'U', "
                    "'owner', 0, 0, 1, :now, :now)"), {"id": user_id.hex, "email": f"u{n}@x.my",
                                                       "now": now})
            await connection.execute(text(
                "INSERT INTO refresh_tokens (id, user_id, family_id, expires_at, created_at) "
                "VALUES (:id, :user, :family, :now, :now)"),
                {"id": uuid.uuid4().hex, "user": ids[0].hex, "family": uuid.uuid4().hex, "now": now})
            await connection.execute(text(
                "INSERT INTO user_referral_codes (user_id, code, created_at) "
                "VALUES (:user, 'REF-00000001', :now)"), {"user": ids[0].hex, "now": now})
            await connection.execute(text(
                "INSERT INTO referrals (id, referrer_id, referee_id, code, reward_amount_cents, "
                "referrer_credited, referee_credited, created_at, updated_at) VALUES (:id, :a, "
                ":b, 'REF-00000001', 500, 0, 0, :now, :now)"),
                {"id": uuid.uuid4().hex, "a": ids[0].hex, "b": ids[1].hex, "now": now})
        await migrate(database, migrations)
        async with database.engine.connect() as connection:
            counts = [(await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
                      for table in ("users", "refresh_tokens", "user_referral_codes", "referrals")]
            assert counts == [2, 1, 1, 1]
            assert (await connection.execute(text("PRAGMA foreign_key_check"))).all() == []
            await connection.execute(text(
                "INSERT INTO users (id, email, password_hash, full_name, role, is_verified, "
                "is_banned, version, created_at, updated_at, verified_phone) VALUES (:id, NULL, "
                "NULL, '', 'driver', 1, 0, 1, :now, :now, '+6281234567890')"),
                {"id": uuid.uuid4().hex, "now": now})
    finally:
        await database.dispose()
