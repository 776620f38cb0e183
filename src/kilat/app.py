"""Compose services into processes: all in one (embedded) or one per process (distributed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kilat.platform.db import Database, ensure_database, migrate
from kilat.platform.infra import build_infrastructure
from kilat.platform.logging import configure_logging
from kilat.platform.runtime import (
    Infrastructure,
    ServiceRuntime,
    create_service_app,
    freeze_startup_heap,
)
from kilat.platform.settings import Settings
from kilat.services import SERVICES, load_descriptor


def embedded_runtimes(infra: Infrastructure, services: list[str] | None = None) -> list[ServiceRuntime]:
    return [ServiceRuntime(load_descriptor(name), infra) for name in services or SERVICES]


def build_embedded_app(
    settings: Settings, services: list[str] | None = None, *, demo: bool = False
) -> FastAPI:
    """Every service in one ASGI app behind the gateway; the gateway's lifespan runs them all."""
    from kilat.gateway import create_gateway

    configure_logging(settings.log_level, json=settings.log_json)
    infra = build_infrastructure(settings)
    runtimes = embedded_runtimes(infra, services)

    @asynccontextmanager
    async def lifecycle() -> AsyncIterator[None]:
        await infra.bus.start()
        started: list[ServiceRuntime] = []
        try:
            for runtime in runtimes:
                await runtime.start(demo=demo)
                started.append(runtime)
            if demo and started:  # a small simulated city, so a new user sees a living system
                from kilat.simulate import demo_in_background
                started[-1].spawn(demo_in_background(gateway), "demo-city")
            freeze_startup_heap()
            yield
        finally:
            for runtime in reversed(started):
                await runtime.stop()
            await infra.bus.close()

    upstreams = {runtime.name: create_service_app(runtime) for runtime in runtimes}
    infra.service_apps.update(upstreams)
    gateway = create_gateway(settings, upstreams, infra=infra, lifecycle=lifecycle)
    gateway.state.runtimes = {runtime.name: runtime for runtime in runtimes}
    return gateway


def build_service_app(name: str, settings: Settings) -> FastAPI:
    """One service as its own process (distributed profile)."""
    configure_logging(settings.log_level, json=settings.log_json)
    infra = build_infrastructure(settings)
    runtime = ServiceRuntime(load_descriptor(name), infra)
    return create_service_app(runtime, manage_lifecycle=True)


def build_distributed_gateway(settings: Settings) -> FastAPI:
    from kilat.gateway import create_gateway

    configure_logging(settings.log_level, json=settings.log_json)
    infra = build_infrastructure(settings)
    upstreams = {name: settings.service_url(name) for name in SERVICES}
    return create_gateway(settings, upstreams, infra=infra, lifecycle=None)


async def migrate_services(settings: Settings, services: list[str]) -> list[tuple[str, str]]:
    """Create and migrate each service's database; returns (service, url) pairs."""
    descriptors = [load_descriptor(name) for name in services]
    urls = [settings.database_url(name) for name in services]
    # creating databases and PostGIS takes seconds each: all at once. Alembic keeps global state,
    # so the migrations themselves run one after the other.
    await asyncio.gather(*(ensure_database(url, extensions=descriptor.extensions)
                           for url, descriptor in zip(urls, descriptors, strict=True)))
    for descriptor, url in zip(descriptors, urls, strict=True):
        database = Database(url, service=descriptor.name)
        try:
            await migrate(database, descriptor.migrations_dir)
        finally:
            await database.dispose()
    return list(zip(services, urls, strict=True))


async def create_admin(settings: Settings, email: str, password: str):
    """Create or promote an admin in the identity database (migrating it first)."""
    from kilat.platform.errors import KilatError
    from kilat.services.identity.service import create_admin as create

    await migrate_services(settings, ["identity"])
    database = Database(settings.database_url("identity"), service="identity")
    try:
        async with database.session() as session:
            return await create(session, email, password)
    except KilatError as exc:
        raise ValueError(f"{exc.error}{': ' + exc.detail if exc.detail else ''}") from exc
    finally:
        await database.dispose()


async def seed_demo_data(settings: Settings, services: list[str]) -> None:
    """Run each service's idempotent demo seed (the distributed supervisor calls this once)."""
    for name in services:
        descriptor = load_descriptor(name)
        if descriptor.seed_demo is None:
            continue
        database = Database(settings.database_url(name), service=name)
        try:
            async with database.session() as session:
                await descriptor.seed_demo(session)
        finally:
            await database.dispose()
