"""Identity tests: sign-ins, admins, recorded events (registrations and bearer headers are in
tests/support/people.py)."""

from __future__ import annotations

import httpx
from sqlalchemy import MetaData, select

from kilat.platform.events.tables import event_tables
from kilat.platform.runtime import ServiceRuntime
from kilat.services.identity import service
from tests.support.people import PASSWORD, new_email

_OUTBOX = event_tables(MetaData()).outbox


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def make_admin(runtime: ServiceRuntime, client: httpx.AsyncClient) -> dict:
    """An admin created the way `kilat admin create` does, signed in; returns the AuthResponse."""
    email = new_email("admin")
    async with runtime.database.session() as session:
        await service.create_admin(session, email, PASSWORD,
                                   passwords=runtime.context.authority.passwords)
    return await login(client, email)


async def recorded_events(runtime: ServiceRuntime, event_type: str) -> list[dict]:
    """The data of every ``event_type`` event identity wrote to its outbox, oldest first."""
    async with runtime.database.session(write=False) as session:
        rows = await session.execute(
            select(_OUTBOX.c.payload).where(_OUTBOX.c.type == event_type).order_by(_OUTBOX.c.created_at)
        )
        return [payload["data"] for (payload,) in rows.all()]
