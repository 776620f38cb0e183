"""Users, bookings and trips that benchmarks set up through the public API before measuring."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

import httpx

from kilat.bench.platform import BenchError, Platform
from kilat.simulate.city import place_near, random_pet, random_place
from kilat.simulate.client import ApiError, UserClient
from kilat.simulate.stats import Stats

T = TypeVar("T")
PASSWORD = "bench-Pa55word!"


def http_client(base_url: str, connections: int = 8) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits)


async def gather_limited(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int = 16) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(job):
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def registered(platform: Platform, role: str, stats: Stats, label: str) -> UserClient:
    """A user signed up through ``POST /auth/register`` (a real account)."""
    client = UserClient(http_client(platform.url), stats)
    try:
        await client.register(f"{label}-{uuid.uuid4().hex[:10]}@example.com", PASSWORD,
                              f"Bench {role.title()}", role)
    except ApiError as exc:
        await client.aclose()
        raise BenchError(f"could not register a {role}: {exc}") from exc
    return client


def minted(platform: Platform, role: str, stats: Stats, base_url: str | None = None) -> UserClient:
    """A user with a token signed by the platform key, for load that needs thousands of users."""
    client = UserClient(http_client(base_url or platform.url, 2), stats)
    client.user_id = str(uuid.uuid4())
    client.access_token = platform.issuer().access_token(uuid.UUID(client.user_id),
                                                         f"{role}-{client.user_id[:8]}@example.com", role)
    return client


def booking_body(rng: random.Random) -> dict:
    pickup = random_place(rng)
    dropoff = place_near(rng, pickup.latitude, pickup.longitude, 6.0)
    return {"pet_spec": random_pet(rng), "pickup_address": pickup.address(),
            "dropoff_address": dropoff.address()}


async def create_booking(owner: UserClient, rng: random.Random) -> dict:
    return await owner.call("book", "POST", "/api/v1/bookings", booking_body(rng))


async def runner_online(runner: UserClient, latitude: float, longitude: float) -> None:
    """A runner profile with a crate, online at a position."""
    await runner.call("profile", "POST", "/api/v1/runners",
                      {"vehicle_type": "car", "vehicle_plate": f"B{random.randint(1000, 9999)}X"})
    await runner.call("online", "POST", "/api/v1/runners/me/online",
                      {"latitude": latitude, "longitude": longitude})


async def expect(call: Awaitable[T], what: str) -> T:
    try:
        return await call
    except ApiError as exc:
        raise BenchError(f"setup failed ({what}): {exc}") from exc
