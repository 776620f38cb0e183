import pytest

from kilat.platform.runtime import Infrastructure
from kilat.services.booking import descriptor
from tests.support.people import People
from tests.support.harness import (
    postgres_database_url,
    private_nats_bus,
    require_postgres,
    running_service,
)


@pytest.fixture
async def nats_bus():
    async with private_nats_bus("booking") as bus:
        yield bus


@pytest.fixture
async def distributed(infra, nats_bus) -> Infrastructure:
    return Infrastructure(settings=infra.settings, bus=nats_bus, verifier=infra.verifier,
                          issuer=infra.issuer, extras=infra.extras)


@pytest.fixture
async def running(distributed):
    """The booking service on a fresh PostgreSQL + PostGIS database and NATS: (runtime, client)."""
    require_postgres()
    url = postgres_database_url("kilat_booking")
    async with running_service(descriptor, distributed, database_url=url) as started:
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
