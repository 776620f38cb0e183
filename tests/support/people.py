"""People for tests: a user with a real access token, made by the platform key or registered
through identity's API, and ``settle`` to let a service's committed work leave."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy import MetaData, func, select

from kilat.platform.events.tables import event_tables
from kilat.platform.runtime import Infrastructure, ServiceRuntime

PASSWORD = "correct-horse"
_OUTBOX = event_tables(MetaData()).outbox


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    role: str
    email: str
    token: str

    @property
    def id(self) -> str:
        return str(self.user_id)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def person(infra: Infrastructure, role: str, *, user_id: uuid.UUID | None = None,
           email: str | None = None) -> Person:
    """A user with an access token signed by the platform key (identity is not asked)."""
    user_id = user_id or uuid.uuid4()
    email = email or f"{role}-{user_id.hex[:8]}@example.com"
    return Person(user_id, role, email, infra.issuer.access_token(user_id, email, role))


@dataclass
class People:
    """``people.owner``, ``people.runner2``, ``people.other_owner``, ``people.admin``: one person
    per name, its role the name without digits or an ``other_`` prefix."""

    infra: Infrastructure
    made: dict[str, Person] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Person:
        if name.startswith("_") or name in ("infra", "made"):
            raise AttributeError(name)
        if name not in self.made:
            self.made[name] = person(self.infra, name.rstrip("0123456789").removeprefix("other_"))
        return self.made[name]


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def registration(**overrides) -> dict:
    """A valid ``POST /api/v1/auth/register`` body."""
    return {"email": new_email(), "password": PASSWORD, "full_name": "Ana Owner",
            "role": "owner"} | overrides


async def sign_up(client: httpx.AsyncClient, **overrides) -> dict:
    """Register an account through identity's API; returns its AuthResponse data."""
    response = await client.post("/api/v1/auth/register", json=registration(**overrides))
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def register(client: httpx.AsyncClient, role: str = "owner", **overrides) -> Person:
    """A user registered through identity's API, signed in."""
    auth = await sign_up(client, role=role, **overrides)
    user = auth["user"]
    return Person(uuid.UUID(user["id"]), user["role"], user["email"], auth["access_token"])


async def settle(runtime: ServiceRuntime, timeout: float = 5.0) -> None:
    """Wait until every event ``runtime`` committed has left its outbox for the bus, then let
    the after-commit tasks it started run. (How far another service's consumer got is not
    observable from here: wait for its effect with ``wait_for``.)"""
    deadline = asyncio.get_running_loop().time() + timeout
    while await _unpublished(runtime):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{runtime.name}'s outbox did not drain in time")
        await runtime.relay.drain()
        await asyncio.sleep(0.01)
    for _ in range(3):
        await asyncio.sleep(0)


async def _unpublished(runtime: ServiceRuntime) -> int:
    async with runtime.database.session(write=False) as session:
        query = select(func.count()).select_from(_OUTBOX).where(_OUTBOX.c.published_at.is_(None))
        return (await session.execute(query)).scalar_one()
