import pytest

from kilat.services.identity import descriptor
from tests.support.harness import running_service


@pytest.fixture
async def identity(infra):
    """The identity service on SQLite and the in-process bus: (runtime, client)."""
    async with running_service(descriptor, infra) as running:
        yield running
