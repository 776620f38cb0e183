from dataclasses import dataclass

import pytest

from kilat.platform.events.nats import NatsBus
from kilat.platform.runtime import Infrastructure
from tests.service.tracking.support import TEST_SETTINGS
from tests.support.harness import (
    NATS_URL,
    postgres_database_url,
    private_stream,
    require_postgres,
)


@pytest.fixture(autouse=True)
def tracking_settings(monkeypatch):
    for name, value in TEST_SETTINGS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def postgres_url():
    """A fresh database name; the runtime creates it with PostGIS, the test drops it."""
    require_postgres()
    return postgres_database_url("kilat_tracking")


@dataclass
class Nats:
    """A JetStream stream and subject prefix of this test only; each ``bus()`` is one process."""

    stream: str
    prefix: str

    def bus(self) -> NatsBus:
        return NatsBus(NATS_URL, stream=self.stream, subject_prefix=self.prefix, max_attempts=3,
                       retry_base_seconds=0.05, fetch_timeout=1.0, request_timeout=2.0)

    def infra(self, infra, bus: NatsBus) -> Infrastructure:
        return Infrastructure(settings=infra.settings, bus=bus, verifier=infra.verifier,
                              issuer=infra.issuer)


@pytest.fixture
async def nats_space():
    async with private_stream("tracking") as (stream, prefix):
        yield Nats(stream=stream, prefix=prefix)
