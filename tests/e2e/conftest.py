"""End-to-end tests drive a real `kilat up` process through the gateway over HTTP and WebSocket.

Every test that takes ``platform`` (or ``platform_url``) runs once per profile: embedded (one
process, SQLite, in-process bus) and distributed (a supervised process per service on PostgreSQL,
Redis and NATS). Locally the distributed run is skipped when a server is missing; in CI it must run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.platform import Platform, start_distributed, start_embedded
from tests.support.harness import require_nats, require_postgres, require_redis

PROFILES = ["embedded", "distributed"]


@pytest.fixture(scope="package")
def embedded_platform(tmp_path_factory) -> Iterator[Platform]:
    platform = start_embedded(tmp_path_factory.mktemp("kilat-embedded"))
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="package")
def distributed_platform(tmp_path_factory) -> Iterator[Platform]:
    require_postgres()
    require_redis()
    require_nats()
    platform = start_distributed(tmp_path_factory.mktemp("kilat-distributed"))
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="package", params=PROFILES)
def platform(request) -> Platform:
    """A running platform; each profile runs the same journey tests."""
    return request.getfixturevalue(f"{request.param}_platform")


@pytest.fixture(scope="package")
def platform_url(platform: Platform) -> str:
    return platform.url
