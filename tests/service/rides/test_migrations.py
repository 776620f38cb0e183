"""The hand-written migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kilat.services.rides.models import metadata
from tests.service.rides.support import rides_service


async def test_migrated_schema_matches_the_models(infra):
    def differences(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with rides_service(infra) as (runtime, _client):
        async with runtime.database.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
