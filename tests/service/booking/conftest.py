import pytest

from kilat.services.booking import descriptor
from tests.support.people import People
from tests.support.harness import running_service


@pytest.fixture
async def running(infra):
    """The booking service on SQLite and the in-process bus: (runtime, client)."""
    async with running_service(descriptor, infra) as started:
        yield started


@pytest.fixture
def runtime(running):
    return running[0]


@pytest.fixture
def client(running):
    return running[1]


@pytest.fixture
def people(infra) -> People:
    return People(infra)
