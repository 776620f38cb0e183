import pytest

from kilat.platform.events.nats import NatsBus
from kilat.platform.runtime import Infrastructure
from tests.service.payment.support import payment_world
from tests.support.harness import (
    NATS_URL,
    private_stream,
    embedded_infra,
    postgres_database_url,
    require_postgres,
)


@pytest.fixture
async def nats_bus():
    """A JetStream bus on a stream and subject prefix of this test only."""
    async with private_stream("payment") as (stream, prefix):
        bus = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, max_attempts=5,
                      retry_base_seconds=0.05, fetch_timeout=1.0, request_timeout=2.0)
        await bus.start()
        try:
            yield bus
        finally:
            await bus.close()


@pytest.fixture
async def world(tmp_path, nats_bus):
    """The payment service on a fresh PostgreSQL database, its events on NATS JetStream."""
    require_postgres()
    async with embedded_infra(tmp_path, service_urls={"booking": "http://127.0.0.1:1"}) as infra:
        distributed = Infrastructure(settings=infra.settings, bus=nats_bus,
                                     verifier=infra.verifier, issuer=infra.issuer)
        url = postgres_database_url("kilat_payment")
        async with payment_world(distributed, database_url=url) as world:
            yield world
