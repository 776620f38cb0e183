"""Builders and a live server for the tracking tests (also used by the integration tests)."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from kilat.platform.events import Event
from kilat.platform.events.bus import Delivery
from kilat.platform.runtime import ServiceRuntime, create_service_app
from tests.support.harness import auth_headers, wait_for
from tests.support.people import settle

# small, fast values for tests; production defaults are in TrackingSettings
TEST_SETTINGS = {
    "KILAT_TRACKING_WAYPOINT_FLUSH_SECONDS": "0.05",
    "KILAT_TRACKING_TRIP_MISS_TTL_SECONDS": "0.05",
    "KILAT_TRACKING_UPDATED_EVENT_INTERVAL_SECONDS": "30",
}

# Kuala Lumpur, where the pets vertical started
ORIGIN = (3.139, 101.6869)
KM_PER_DEGREE_LAT = math.pi * 6371.0 / 180


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Trip:
    """A booking accepted by a runner, with tokens for both parties."""

    infra: object
    booking_id: uuid.UUID = field(default_factory=uuid.uuid4)
    owner_id: uuid.UUID = field(default_factory=uuid.uuid4)
    runner_id: uuid.UUID = field(default_factory=uuid.uuid4)
    booking_number: str = "KLT-TEST01"

    def headers(self, who: str) -> dict[str, str]:
        if who == "owner":
            return auth_headers(self.infra, "owner", self.owner_id)
        if who == "runner":
            return auth_headers(self.infra, "runner", self.runner_id)
        if who == "admin":
            return auth_headers(self.infra, "admin")
        return auth_headers(self.infra, "owner")

    def token(self, who: str) -> str:
        return self.headers(who)["Authorization"].removeprefix("Bearer ")

    def fact(self, event_type: str, status: str, **extra) -> Event:
        data = {
            "booking_id": str(self.booking_id), "booking_number": self.booking_number,
            "owner_id": str(self.owner_id), "runner_id": str(self.runner_id), "status": status,
            "estimated_price_cents": 4423, "currency": "MYR", "occurred_at": now().isoformat(),
        } | extra
        return Event(source="booking", type=event_type, data=data)

    def accepted(self, **extra) -> Event:
        return self.fact("booking.accepted", "accepted", accepted_at=now().isoformat(), **extra)

    def ping(self, lat: float, lng: float, at: datetime | None = None, *, with_booking: bool = True,
             speed_kmh: float | None = 30.0, accuracy_m: float | None = 5.0) -> dict:
        return {
            "runner_id": str(self.runner_id), "runner_profile_id": str(uuid.uuid4()),
            "booking_id": str(self.booking_id) if with_booking else None,
            "latitude": lat, "longitude": lng, "speed_kmh": speed_kmh, "heading_degrees": 90.0,
            "accuracy_m": accuracy_m, "timestamp": (at or now()).isoformat(),
        }


def path(count: int, *, start: datetime | None = None, step_m: float = 50.0,
         every_s: float = 5.0) -> list[tuple[float, float, datetime]]:
    """``count`` positions heading north, ``step_m`` metres and ``every_s`` seconds apart."""
    start = start or now() - timedelta(seconds=every_s * count)
    lat, lng = ORIGIN
    degrees = step_m / 1000 / KM_PER_DEGREE_LAT
    return [(lat + i * degrees, lng, start + timedelta(seconds=i * every_s)) for i in range(count)]


async def deliver(runtime: ServiceRuntime, event: Event) -> None:
    """Hand a booking fact to the service's consumer (inbox, handler, commit) and let the
    after-commit work run."""
    await runtime.consumer(Delivery(event, 1, 5))
    await settle(runtime)


@asynccontextmanager
async def serve(runtime: ServiceRuntime) -> AsyncIterator[str]:
    """The service's app on a real uvicorn server (this event loop, a free port); yields ws://."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_service_app(runtime), lifespan="off", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task
            await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def socket_for(base: str, booking_id: uuid.UUID, *, token: str | None = None,
                     share: str | None = None, frames: str | None = "all",
                     ) -> AsyncIterator[ClientConnection]:
    """A tracking socket; our own clients ask for every frame (``frames=None``: the original
    apps' default, flat location frames only)."""
    query = f"token={token}" if token else f"share={share}" if share else ""
    if frames is not None:
        query += f"&frames={frames}"
    async with connect(f"{base}/ws/tracking/{booking_id}?{query}", open_timeout=5) as ws:
        yield ws


async def next_frame(ws: ClientConnection, kind: str | None = None, timeout: float = 3.0) -> dict:
    """The next frame (of ``kind`` when given), skipping others."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(remaining, 0.01)))
        if kind is None or frame["type"] == kind:
            return frame


async def recorded(runtime: ServiceRuntime, event_type: str) -> list[dict]:
    """Data of the events of ``event_type`` the service wrote to its outbox, oldest first."""
    from sqlalchemy import MetaData, select

    from kilat.platform.events.tables import event_tables

    outbox = event_tables(MetaData()).outbox
    async with runtime.database.session(write=False) as session:
        rows = await session.execute(select(outbox.c.payload).where(outbox.c.type == event_type)
                                     .order_by(outbox.c.created_at))
        return [payload["data"] for (payload,) in rows]


def live(runtime: ServiceRuntime):
    return runtime.context.live


async def stand_in_runner(bus) -> None:
    """The runner service's part of a socket fix, for tests that run tracking alone: judge each
    raw fix with the kernel's GPS judge and publish the accepted ones back, as runner does."""
    from kilat.platform.geo import Fix, GpsPolicy, judge_fix

    last: dict[str, Fix] = {}

    async def on_reported(payload: dict) -> None:
        fix = Fix(payload["latitude"], payload["longitude"],
                  datetime.fromisoformat(payload["timestamp"]), payload.get("speed_kmh"),
                  payload.get("heading_degrees"), payload.get("accuracy_m"))
        previous = last.get(payload["runner_id"])
        if judge_fix(previous, fix, GpsPolicy(), now=datetime.now(UTC)).moves:
            last[payload["runner_id"]] = fix
            await bus.publish_fast("runner.location_update", payload)

    await bus.subscribe_fast("runner.location_reported", on_reported)
