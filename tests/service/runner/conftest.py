import pytest

from tests.service.runner.support import runner_app


@pytest.fixture
async def app(infra):
    """The runner service on SQLite, the in-process bus and the in-memory location index."""
    async with runner_app(infra) as running:
        yield running
