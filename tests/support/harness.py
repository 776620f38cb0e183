"""Test harness: run a service on real adapters and talk to it over HTTP."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from kilat.bench.platform import free_ports
from kilat.platform.infra import build_infrastructure
from kilat.platform.runtime import (
    Infrastructure,
    ServiceDescriptor,
    ServiceRuntime,
    create_service_app,
)
from kilat.platform.settings import Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_URL = os.environ.get("KILAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("KILAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NATS_URL = os.environ.get("KILAT_TEST_NATS_URL", "nats://127.0.0.1:4222")


async def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02):
    """Poll a plain or async predicate until it is truthy and return its value; fail after
    ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def free_port() -> int:
    """A port nobody listens on right now (a test server binds it next)."""
    return free_ports(1)[0]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip locally when a server is absent; in CI (CI=true) its absence is a failure."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: integration tests must run)")
    pytest.skip(message)


def require_postgres() -> None:
    require_server("PostgreSQL", "127.0.0.1", 5432)


def require_redis() -> None:
    require_server("Redis", "127.0.0.1", 6379)


def require_nats() -> None:
    require_server("NATS", "127.0.0.1", 4222)


@asynccontextmanager
async def private_stream(label: str) -> AsyncIterator[tuple[str, str]]:
    """A JetStream stream and subject prefix of this test only (parallel runs never see each
    other's events), deleted afterwards. Yields ``(stream, subject_prefix)``."""
    require_nats()
    suffix = uuid.uuid4().hex[:12]
    stream, prefix = f"KILAT_TEST_{label.upper()}_{suffix}", f"kilat{label.lower()}{suffix}"
    try:
        yield stream, prefix
    finally:
        await delete_stream(NATS_URL, stream)


@asynccontextmanager
async def private_nats_bus(label: str, **options):
    """A started JetStream bus on a stream and subject prefix of this test only."""
    from kilat.platform.events.nats import NatsBus

    options = {"max_attempts": 3, "retry_base_seconds": 0.05, "fetch_timeout": 1.0,
               "request_timeout": 2.0} | options
    async with private_stream(label) as (stream, prefix):
        bus = NatsBus(NATS_URL, stream=stream, subject_prefix=prefix, **options)
        await bus.start()
        try:
            yield bus
        finally:
            await bus.close()


async def delete_stream(nats_url: str, stream: str) -> None:
    """Remove a test's stream; a missing stream or an unreachable server is not an error."""
    import nats
    from nats.js.errors import NotFoundError

    try:
        client = await nats.connect(nats_url, connect_timeout=2, max_reconnect_attempts=0)
    except Exception:
        return
    try:
        await client.jetstream().delete_stream(stream)
    except NotFoundError:
        pass
    finally:
        await client.close()


def make_settings(data_dir: Path, **overrides) -> Settings:
    values = {"data_dir": data_dir, "rate_limit_per_minute": 0, "log_json": False,
              "password_hash_rounds": 4,
              "event_retry_base_seconds": 0.05, "outbox_poll_seconds": 0.1}
    values.update(overrides)
    return Settings(**values)


def postgres_database_url(prefix: str) -> str:
    return f"{POSTGRES_URL}/{prefix}_test_{uuid.uuid4().hex[:10]}"


def auth_headers(infra: Infrastructure, role: str, user_id: uuid.UUID | None = None,
                 email: str | None = None) -> dict[str, str]:
    """Headers with a real access token signed by the platform key (no identity call)."""
    user_id = user_id or uuid.uuid4()
    token = infra.issuer.access_token(user_id, email or f"{role}-{user_id.hex[:8]}@example.com", role)
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def running_service(
    descriptor: ServiceDescriptor, infra: Infrastructure, *, database_url: str | None = None,
    consume: bool = True,
) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    """Start one service (migrations run, relay and consumers live) and yield an HTTP client.
    With ``consume=False`` its consumer never starts: no event reaches its read models."""
    from kilat.platform.db import drop_database

    runtime = ServiceRuntime(descriptor, infra, database_url=database_url)
    await runtime.start(consume=consume)
    app = create_service_app(runtime)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield runtime, client
    finally:
        await runtime.stop()
        if database_url is not None:
            await drop_database(database_url)


@asynccontextmanager
async def embedded_infra(data_dir: Path, **overrides) -> AsyncIterator[Infrastructure]:
    infra = build_infrastructure(make_settings(data_dir, **overrides))
    await infra.bus.start()
    try:
        yield infra
    finally:
        await infra.bus.close()
