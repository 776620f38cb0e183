"""Builders for the rides tests: a running rides service with quick settings, drivers placed
around a pickup in Jakarta, and the steps of a ride."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from kilat.platform.events import Event
from kilat.platform.events.bus import Delivery
from kilat.platform.runtime import Infrastructure, ServiceRuntime
from kilat.services.rides import descriptor
from kilat.services.rides.settings import RidesSettings
from tests.support.harness import running_service
from tests.support.people import Person, person, settle

PICKUP = (-6.2000, 106.8166)  # Jakarta, Bundaran HI
DESTINATION = (-6.1754, 106.8272)
M_PER_DEGREE_LAT = math.pi * 6371.0 / 180 * 1000


def north(metres: float, origin: tuple[float, float] = PICKUP) -> tuple[float, float]:
    return origin[0] + metres / M_PER_DEGREE_LAT, origin[1]


def quick_settings(**overrides) -> RidesSettings:
    # every field a test relies on is set here, whatever the environment says
    values = {"payment_wait_seconds": 0.0, "deadline_poll_seconds": 0.05,
              "purge_interval_seconds": 60.0, "socket_heartbeat_seconds": 30.0,
              "max_speed_kmh": 160.0, "jitter_m": 10.0, "match_radius_km": 1.0, "offer_batch": 3,
              "offer_ttl_seconds": 30.0, "fare_per_km": 3000, "admin_fee_percent": 5,
              "start_radius_m": 100.0, "clock_skew_seconds": 5.0, "location_index": "memory"}
    return RidesSettings(**(values | overrides))


@asynccontextmanager
async def rides_service(infra: Infrastructure, database_url: str | None = None,
                        **settings) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    infra.service_settings["rides"] = quick_settings(**settings)
    async with running_service(descriptor, infra, database_url=database_url) as running:
        yield running


def body(response: httpx.Response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()["data"]


def point(latlng: tuple[float, float]) -> dict[str, float]:
    return {"latitude": latlng[0], "longitude": latlng[1]}


async def driver_at(client: httpx.AsyncClient, infra: Infrastructure, metres_north: float,
                    *, vehicle: str = "motorcycle", available: bool = True) -> Person:
    driver = person(infra, "driver")
    body(await client.post("/api/v1/rides/drivers", headers=driver.headers,
                           json={"vehicle_type": vehicle, "vehicle_plate": "B 1234 XYZ"}), 201)
    await beacon(client, driver, north(metres_north), available)
    return driver


async def beacon(client: httpx.AsyncClient, driver: Person, where: tuple[float, float],
                 available: bool = True) -> dict:
    return body(await client.post("/api/v1/rides/drivers/me/beacon", headers=driver.headers,
                                  json=point(where) | {"available": available}))


async def ask_ride(client: httpx.AsyncClient, passenger: Person,
                   pickup: tuple[float, float] = PICKUP) -> dict:
    return body(await client.post("/api/v1/rides/requests", headers=passenger.headers,
                                  json={"pickup": point(pickup),
                                        "destination": point(DESTINATION)}), 201)


async def offers_of(client: httpx.AsyncClient, driver: Person) -> list[dict]:
    return body(await client.get("/api/v1/rides/offers", headers=driver.headers))


async def accept(client: httpx.AsyncClient, driver: Person, offer_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/rides/offers/{offer_id}/accept", headers=driver.headers)


@dataclass
class Matched:
    passenger: Person
    driver: Person
    request: dict
    ride: dict | None = None

    @property
    def ride_id(self) -> str:
        return self.ride["id"]


async def matched(client: httpx.AsyncClient, infra: Infrastructure, *,
                  confirm: bool = True) -> Matched:
    """A passenger's request accepted by a driver 300 m away (and confirmed)."""
    driver = await driver_at(client, infra, 300)
    passenger = person(infra, "passenger")
    request = await ask_ride(client, passenger)
    [offer] = await offers_of(client, driver)
    body(await accept(client, driver, offer["id"]))
    found = Matched(passenger, driver, request)
    if confirm:
        found.ride = body(await client.post(f"/api/v1/rides/requests/{request['id']}/confirm",
                                            headers=passenger.headers), 201)
    return found


async def started(client: httpx.AsyncClient, infra: Infrastructure) -> Matched:
    trip = await matched(client, infra)
    trip.ride = body(await client.post(f"/api/v1/rides/{trip.ride_id}/start",
                                       headers=trip.driver.headers, json=point(north(20))))
    return trip


async def fix(client: httpx.AsyncClient, who: Person, ride_id: str, where: tuple[float, float],
              at: datetime | None = None) -> httpx.Response:
    payload = point(where) | ({"recorded_at": at.isoformat()} if at else {})
    return await client.post(f"/api/v1/rides/{ride_id}/location", headers=who.headers,
                             json=payload)


def track(metres: float, fixes: int, start: datetime, *, every_s: float = 20.0,
          origin: tuple[float, float] | None = None) -> list[tuple[tuple[float, float], datetime]]:
    """``fixes`` positions heading north over ``metres`` in all, ``every_s`` seconds apart."""
    origin = origin or north(20)
    step = metres / (fixes - 1)
    return [(north(i * step, origin), start + timedelta(seconds=i * every_s))
            for i in range(fixes)]


def charge_event(kind: str, ride: dict, **extra) -> Event:
    data = {"charge_id": ride["charge_id"], "source": "rides", "reference_id": ride["id"],
            "payer_id": ride["passenger_id"], "amount": ride["adjusted_fare"],
            "currency": "IDR", "occurred_at": datetime.now(UTC).isoformat()} | extra
    return Event(id=uuid.uuid4(), source="payment", type=kind, data=data)


async def deliver(runtime: ServiceRuntime, event: Event) -> None:
    await runtime.consumer(Delivery(event, 1, 5))
    await settle(runtime)


async def recorded(runtime: ServiceRuntime, event_type: str) -> list[dict]:
    """The events of ``event_type`` the service recorded (its outbox, sent or not), oldest first."""
    from sqlalchemy import MetaData, select

    from kilat.platform.events.tables import event_tables

    outbox = event_tables(MetaData()).outbox
    async with runtime.database.session(write=False) as session:
        rows = (await session.execute(select(outbox.c.payload).where(outbox.c.type == event_type)
                                      .order_by(outbox.c.created_at))).scalars().all()
    return list(rows)


async def due(runtime: ServiceRuntime, seconds_later: float) -> int:
    """Run the deadline queue as if ``seconds_later`` had passed."""
    from kilat.services.rides.matching import process_due

    handled = await process_due(runtime, datetime.now(UTC) + timedelta(seconds=seconds_later))
    await settle(runtime)
    return handled


@asynccontextmanager
async def serve(runtime: ServiceRuntime) -> AsyncIterator[str]:
    """The service on a real uvicorn server (this loop, a free port); yields its ws:// base."""
    import asyncio
    import socket

    import uvicorn

    from kilat.platform.runtime import create_service_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_service_app(runtime), lifespan="off", log_level="warning",
                            access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task
            await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Socket:
    """A client of /ws/rides: frames taken by event name (others wait their turn), requests
    acknowledged by id."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.seen: list[dict] = []
        self.waiting: list[dict] = []
        self._ids = 0

    async def next(self, event: str | None = None, timeout: float = 3.0) -> dict:
        import asyncio
        import json

        for frame in self.waiting:
            if event is None or frame["event"] == event:
                self.waiting.remove(frame)
                return frame
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = max(deadline - loop.time(), 0.01)
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            self.seen.append(frame)
            if event is None or frame["event"] == event:
                return frame
            self.waiting.append(frame)

    async def ask(self, event: str, data: dict | None = None) -> dict:
        import json

        self._ids += 1
        await self.ws.send(json.dumps({"id": self._ids, "event": event, "data": data or {}}))
        while True:
            frame = await self.next("ack")
            if frame["data"]["id"] == self._ids:
                return frame["data"]


@asynccontextmanager
async def socket_of(base: str, who: Person, since: int | None = None) -> AsyncIterator[Socket]:
    from websockets.asyncio.client import connect

    query = f"token={who.token}" + ("" if since is None else f"&since={since}")
    async with connect(f"{base}/ws/rides?{query}", open_timeout=5) as ws:
        client = Socket(ws)
        await client.next("welcome")
        yield client
