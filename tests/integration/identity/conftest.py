import pytest

from kilat.services.identity import descriptor
from tests.support.harness import postgres_database_url, require_postgres, running_service


@pytest.fixture
async def identity_pg(infra):
    """The identity service on a fresh PostgreSQL database: (runtime, client)."""
    require_postgres()
    url = postgres_database_url("kilat_identity")
    async with running_service(descriptor, infra, database_url=url) as running:
        yield running
