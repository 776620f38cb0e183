import pytest

from kilat.platform.runtime import Infrastructure
from tests.service.payment.support import payment_world
from tests.support.harness import (
    embedded_infra,
    postgres_database_url,
    private_nats_bus,
    require_postgres,
)


@pytest.fixture
async def nats_bus():
    async with private_nats_bus("payment", max_attempts=5) as bus:
        yield bus


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
