"""The notification service's Context: its settings, providers and delivery worker, one per process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import Depends

from kilat.platform.db import Database
from kilat.platform.models import utcnow
from kilat.platform.runtime import ServiceRuntime, service_context
from kilat.services.notification.dispatcher import STOP_GRACE_SECONDS, Dispatcher
from kilat.services.notification.providers import LogSink, build_chains, uses_sink
from kilat.services.notification.settings import NotificationSettings
from kilat.services.notification.sink import SinkStore


class NotificationContext:
    """What the service's handlers, routes and worker share in one process."""

    def __init__(self, database: Database, settings: NotificationSettings) -> None:
        self.settings = settings
        self.clock: Callable[[], datetime] = utcnow
        # None in production: no channel is wired to the development sink
        self.sink_store = SinkStore(database, settings, self.now) if uses_sink(settings) else None
        self.sink = LogSink(recorder=self.sink_store)
        self.http = httpx.AsyncClient(timeout=settings.webhook_timeout_seconds)
        self.dispatcher = Dispatcher(database, settings,
                                     build_chains(settings, self.http, self.sink), self.now)
        self.worker: asyncio.Task | None = None

    def now(self) -> datetime:
        return self.clock()

    async def close(self) -> None:
        """Let the worker finish its current transaction rather than cancel it midway."""
        self.dispatcher.stop()
        if self.worker is not None:
            await asyncio.wait({self.worker}, timeout=STOP_GRACE_SECONDS)
        await self.http.aclose()


def notification_context(runtime: ServiceRuntime) -> NotificationContext:
    return NotificationContext(runtime.database, runtime.own_settings())


Ctx = Annotated[NotificationContext, Depends(service_context)]
