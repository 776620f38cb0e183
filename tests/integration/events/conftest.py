from dataclasses import dataclass

import nats
import pytest

from tests.support.harness import NATS_URL, private_stream


@dataclass(frozen=True)
class Namespace:
    """A stream and subject prefix of this test only, so parallel runs never see each other."""

    stream: str
    prefix: str


@pytest.fixture
async def namespace():
    async with private_stream("events") as (stream, prefix):
        yield Namespace(stream=stream, prefix=prefix)


@pytest.fixture
async def jetstream(namespace):
    """A separate JetStream client to inspect what the broker stored and delivered."""
    client = await nats.connect(NATS_URL)
    try:
        yield client.jetstream()
    finally:
        await client.close()
