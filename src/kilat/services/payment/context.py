"""What the payment code shares inside one running service: settings, provider, rail, wake-ups,
and the kept-alive client it reads other services with."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import httpx
from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.db import Database, after_commit
from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.payment.adapters.provider import BuiltinProvider, PaymentProvider
from kilat.services.payment.adapters.rail import PayoutRail, SimulatedRail
from kilat.services.payment.settings import PaymentSettings


@dataclass
class PaymentContext:
    database: Database
    settings: PaymentSettings
    provider: PaymentProvider
    rail: PayoutRail
    infra: Infrastructure
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    clients: dict[str, tuple[object, httpx.AsyncClient]] = field(default_factory=dict)

    def wake_after_commit(self, session: AsyncSession) -> None:
        """Nudge the background worker once this transaction has committed."""
        after_commit(session, self.wake.set)

    async def client_for(self, service: str) -> httpx.AsyncClient:
        """A kept-alive client for synchronous reads from ``service``: building one costs tens
        of milliseconds of CPU (TLS context) and a new connection per read."""
        target = self.infra.service_apps.get(service) or self.infra.settings.service_url(service)
        cached = self.clients.get(service)
        if cached is not None and cached[0] == target:
            return cached[1]
        client = self.infra.service_client(service)
        self.clients[service] = (target, client)
        if cached is not None:
            await cached[1].aclose()
        return client

    async def close(self) -> None:
        clients, self.clients = self.clients, {}
        for _target, client in clients.values():
            await client.aclose()


def build_context(runtime: ServiceRuntime) -> PaymentContext:
    settings = runtime.own_settings()
    database = runtime.database
    provider = BuiltinProvider(
        database, authorization_expiry=timedelta(days=settings.authorization_expiry_days))
    rail = SimulatedRail(database, delay=timedelta(seconds=settings.cash_out_rail_delay_seconds))
    return PaymentContext(database, settings, provider, rail, runtime.infra)


Ctx = Annotated[PaymentContext, Depends(service_context)]
