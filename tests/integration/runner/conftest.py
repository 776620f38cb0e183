import uuid

import pytest
import redis.asyncio as aioredis

from tests.integration.runner.private_redis import private_redis  # noqa: F401 (a fixture)
from tests.support.harness import REDIS_URL, require_redis


@pytest.fixture
async def redis_client():
    require_redis()
    client = aioredis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def geo_prefix() -> str:
    """A key prefix of its own, so tests never see each other's runners."""
    return f"test:runner:geo:{uuid.uuid4().hex[:10]}"
