"""Service descriptors and the runtime that starts one service in either profile."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import structlog
from fastapi import APIRouter, Depends, FastAPI
from pydantic_settings import BaseSettings
from sqlalchemy import MetaData
from starlette.requests import HTTPConnection

from kilat.platform import revocations
from kilat.platform.auth import TokenIssuer, TokenVerifier
from kilat.platform.db import Database, ensure_database, migrate
from kilat.platform.events.admin import dead_letter_router
from kilat.platform.events.bus import EventBus
from kilat.platform.events.consumer import EventConsumer, Handler
from kilat.platform.events.outbox import OutboxRelay
from kilat.platform.http import (
    BodyLimit,
    KernelMiddleware,
    install_error_handlers,
    install_openapi_fixups,
    install_probes,
)
from kilat.platform.logging import quiet_denied_handshakes
from kilat.platform.schemas import storable_params
from kilat.platform.settings import Settings

log = structlog.get_logger(__name__)

STOP_TIMEOUT_SECONDS = 10.0

Hook = Callable[["ServiceRuntime"], Awaitable[None]]
C = TypeVar("C")


@dataclass
class ServiceDescriptor(Generic[C]):
    """Everything the runtime needs to run one service; each service exposes one.

    ``settings`` is the service's own settings class (its ``KILAT_<SERVICE>_`` environment);
    ``context`` makes the service's typed Context (its settings and live objects) from the
    runtime, once: routes reach it through ``service_context``, handlers as ``runtime.context``.
    """

    name: str
    port: int
    title: str
    routers: list[APIRouter]
    metadata: MetaData
    migrations_dir: Path
    handlers: Callable[[ServiceRuntime], dict[str, Handler]] | None = None
    extensions: tuple[str, ...] = ()
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    signs_tokens: bool = False
    seed_demo: Callable[[Any], Awaitable[None]] | None = None  # (session) -> None, idempotent
    settings: type[BaseSettings] | None = None
    context: Callable[[ServiceRuntime], C] | None = None


@dataclass
class Infrastructure:
    """What the services of one process share: settings, bus, token keys, cache clients."""

    settings: Settings
    bus: EventBus
    verifier: TokenVerifier
    issuer: TokenIssuer | None = None
    redis: Any = None
    service_apps: dict[str, Any] = field(default_factory=dict)
    # a service's settings by its name, in place of its environment (tests, embedded overrides)
    service_settings: dict[str, BaseSettings] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def service_client(self, name: str, *, timeout: float = 5.0) -> httpx.AsyncClient:
        """HTTP client for a synchronous read from another service.

        Embedded: calls the service's ASGI app in process. Distributed: its URL from settings.
        The caller closes the client (``async with``).
        """
        app = self.service_apps.get(name)
        if app is not None:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=f"http://{name}", timeout=timeout)
        return httpx.AsyncClient(base_url=self.settings.service_url(name), timeout=timeout)


class ServiceRuntime:
    def __init__(self, descriptor: ServiceDescriptor, infra: Infrastructure,
                 database_url: str | None = None) -> None:
        self.descriptor = descriptor
        self.infra = infra
        self.settings = infra.settings
        url = database_url or infra.settings.database_url(descriptor.name)
        self.database = Database(url, service=descriptor.name,
                                 pool_size=self.settings.db_pool_size,
                                 max_overflow=self.settings.db_max_overflow)
        self.relay = OutboxRelay(self.database, infra.bus,
                                 poll_seconds=infra.settings.outbox_poll_seconds)
        self.database.outbox_listeners.append(self.relay.wake)
        self.consumer: EventConsumer | None = None
        # more dependencies /readiness checks, by name: a probe raises when its dependency is down
        self.readiness_probes: dict[str, Callable[[], Awaitable[Any]]] = {}
        self._tasks: list[asyncio.Task] = []
        self._relay_task: asyncio.Task | None = None
        self._context: Any = None

    @property
    def name(self) -> str:
        return self.descriptor.name

    @property
    def bus(self) -> EventBus:
        return self.infra.bus

    @property
    def verifier(self) -> TokenVerifier:
        return self.infra.verifier

    @property
    def issuer(self) -> TokenIssuer:
        if self.infra.issuer is None:
            raise RuntimeError(f"{self.name} has no signing key")
        return self.infra.issuer

    def own_settings(self) -> BaseSettings:
        """The service's settings: ``infra.service_settings[name]`` if given, else its environment."""
        given = self.infra.service_settings.get(self.name)
        if given is not None:
            return given
        if self.descriptor.settings is None:
            raise RuntimeError(f"{self.name} declares no settings")
        return self.descriptor.settings()

    @property
    def context(self) -> Any:
        """The service's Context, made on first use: event handlers may run before ``on_start``."""
        if self._context is None:
            if self.descriptor.context is None:
                raise RuntimeError(f"{self.name} declares no context")
            self._context = self.descriptor.context(self)
        return self._context

    async def prepare_database(self) -> None:
        await ensure_database(self.database.url, extensions=self.descriptor.extensions)
        await migrate(self.database, self.descriptor.migrations_dir)

    async def start(self, *, prepare: bool = True, demo: bool = False,
                    consume: bool = True) -> None:
        """Start the relay, hooks and (unless ``consume`` is false, as tests that pause the
        consumer ask) the event consumer."""
        if prepare:
            await self.prepare_database()
        self._relay_task = self.spawn(self.relay.run(), "outbox-relay")
        await revocations.follow(self.infra)
        for hook in self.descriptor.on_start:
            await hook(self)
        if consume and self.descriptor.handlers is not None:
            self.consumer = EventConsumer(self.name, self.database, self.descriptor.handlers(self),
                                          on_commit=self.relay.wake)
            await self.bus.subscribe(self.name, self.consumer.patterns, self.consumer)
        if demo and self.descriptor.seed_demo is not None:
            async with self.database.session() as session:
                await self.descriptor.seed_demo(session)
        log.info("service started", service=self.name, database=self.database.dialect)

    def spawn(self, coro: Awaitable[None], name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=f"{self.name}:{name}")
        self._tasks.append(task)
        return task

    async def stop(self) -> None:
        self.relay.stop()
        if self.consumer is not None:
            self.consumer.stop()
        if self._relay_task is not None:
            # let a batch in flight finish instead of cancelling it inside its transaction
            await asyncio.wait([self._relay_task], timeout=5)
        for hook in self.descriptor.on_stop:
            await hook(self)
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # a task that swallows its cancellation must not keep the service from stopping
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_TIMEOUT_SECONDS)
            for task in stuck:
                log.error("background task did not stop when cancelled", task=task.get_name())
        self._tasks.clear()
        await self.database.dispose()

    async def readiness_checks(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        probes = {"database": self.database.ping, "broker": self.bus.ping} | self.readiness_probes
        for name, probe in probes.items():
            try:
                await asyncio.wait_for(probe(), timeout=2.0)
                checks[name] = "ready"
            except Exception as exc:
                checks[name] = f"error: {type(exc).__name__}: {exc}"[:200]
        return checks


async def service_context(connection: HTTPConnection) -> Any:
    """The one dependency for a service's Context; each service wraps it in a typed alias:
    ``Ctx = Annotated[ReviewContext, Depends(service_context)]``. Works for WebSockets too."""
    return connection.app.state.runtime.context


def freeze_startup_heap() -> None:
    """Once a process has started, move everything it allocated so far (modules, apps, schemas,
    caches: hundreds of thousands of objects) out of the collector's reach. Without it every full
    collection walks them all on the event loop: 90-150 ms stalls in the embedded profile."""
    gc.collect()
    gc.freeze()


def create_service_app(runtime: ServiceRuntime, *, manage_lifecycle: bool = False) -> FastAPI:
    """The service's ASGI app; with ``manage_lifecycle`` it starts and stops its runtime."""
    descriptor = runtime.descriptor
    quiet_denied_handshakes()

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if manage_lifecycle:
            await runtime.infra.bus.start()
            await runtime.start()
            freeze_startup_heap()
        try:
            yield
        finally:
            if manage_lifecycle:
                await runtime.stop()
                await runtime.infra.bus.close()

    app = FastAPI(title=descriptor.title, version="1.0.0", lifespan=lifespan,
                  dependencies=[Depends(storable_params)])
    app.state.runtime = runtime
    install_error_handlers(app)
    install_openapi_fixups(app)
    install_probes(app, descriptor.name)
    for router in descriptor.routers:
        app.include_router(router)
    if descriptor.handlers is not None:
        app.include_router(dead_letter_router(descriptor.name))
    app.add_middleware(KernelMiddleware, service=descriptor.name,
                       body_limit=BodyLimit.from_settings(runtime.settings))
    return app
