import pytest

from kilat.platform.events.nats import NatsBus
from kilat.platform.runtime import Infrastructure
from kilat.services.booking import descriptor
from tests.service.booking.support import People
from tests.support.harness import (
    NATS_URL,
    postgres_database_url,
    private_stream,
    require_postgres,
    running_service,
)


@pytest.fixture
async def nats_bus():
    """A JetStream bus on a stream and subject prefix of this test only."""
    async with private_stream("booking") as (stream, prefix):
        bus = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, max_attempts=3,
                      retry_base_seconds=0.05, fetch_timeout=1.0, request_timeout=2.0)
        await bus.start()
        try:
            yield bus
        finally:
            await bus.close()


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
