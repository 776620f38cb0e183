"""Parcels test kit: the service, a stand-in payment service answering its charges as the real
one does (by events on the bus), and builders for customers, couriers and orders."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn

from kilat.contracts.charges import ChargeCaptured, ChargeFailed, ChargeRefunded
from kilat.platform.events import Event, new_event
from kilat.platform.events.bus import Delivery
from kilat.platform.runtime import Infrastructure
from kilat.services.parcels import descriptor
from kilat.services.parcels.domain import verify_signature
from kilat.services.parcels.settings import ParcelsSettings
from tests.support.harness import running_service
from tests.support.people import Person, person

KL = {"line1": "1 Jalan Ampang", "city": "Kuala Lumpur", "latitude": 3.1579,
      "longitude": 101.7123, "contact_name": "Siti", "contact_phone": "+60123456789"}
PJ = {"line1": "9 Jalan SS2/24", "city": "Petaling Jaya", "latitude": 3.1185,
      "longitude": 101.6235, "contact_name": "Ravi", "contact_phone": "+60198765432"}
BOX = {"description": "books", "weight_kg": 2.5, "length_cm": 30, "width_cm": 20,
       "height_cm": 10, "quantity": 1}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FAST = {"payment_wait_seconds": 2.0, "webhook_backoff_seconds": 0.05, "webhook_poll_seconds": 0.05,
        "telemetry_flush_seconds": 0.1, "jobs_poll_seconds": 0.1}


@dataclass
class StandInPayment:
    """Answers ``parcels.charge_requested`` / ``.refund_requested`` like the payment service:
    ``mode`` is capture, fail or silent (no answer: the charge stays pending)."""

    infra: Infrastructure
    mode: str = "capture"
    requests: list[Event] = field(default_factory=list)
    refunds: list[Event] = field(default_factory=list)

    async def __call__(self, delivery: Delivery) -> None:
        event = delivery.event
        data = event.data
        if event.type == "parcels.refund_requested":
            self.refunds.append(event)
            await answer(self.infra, ChargeRefunded.TYPE, data, refund_id=data["refund_id"],
                         amount=data["amount"], refunded_total=data["amount"])
            return
        self.requests.append(event)
        if self.mode == "capture":
            await answer(self.infra, ChargeCaptured.TYPE, data, payer_id=data["payer_id"],
                         amount=data["amount"])
        elif self.mode == "fail":
            await answer(self.infra, ChargeFailed.TYPE, data, reason="card declined")


async def answer(infra: Infrastructure, type: str, request: dict, **extra) -> None:
    data = {"charge_id": request["charge_id"], "source": "parcels",
            "reference_id": request["reference_id"], "currency": request["currency"]} | extra
    await infra.bus.publish(new_event(type, data, source="payment", subject=request["charge_id"]))


@asynccontextmanager
async def parcels_service(infra: Infrastructure, *, database_url: str | None = None,
                          payment: str = "capture", **settings):
    infra.service_settings["parcels"] = ParcelsSettings(**(FAST | settings))
    stand_in = StandInPayment(infra, payment)
    await infra.bus.subscribe(f"payment-{uuid.uuid4().hex[:6]}",
                              ["parcels.charge_requested", "parcels.refund_requested"], stand_in)
    async with running_service(descriptor, infra, database_url=database_url) as (runtime, client):
        runtime.payment = stand_in
        yield runtime, client


def order_body(**overrides) -> dict:
    return {"pickup_address": KL, "dropoff_address": PJ, "items": [BOX],
            "service_level": "standard"} | overrides


async def place(client, customer: Person, **overrides) -> dict:
    response = await client.post("/api/v1/parcels/orders", json=order_body(**overrides),
                                 headers=customer.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def paid_order(client, customer: Person, **overrides) -> dict:
    order = await place(client, customer, **overrides)
    response = await client.post(f"/api/v1/parcels/orders/{order['id']}/pay",
                                 headers=customer.headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["status"] == "paid", response.text
    return response.json()["data"]


async def online_courier(client, infra: Infrastructure, near: dict = KL) -> Person:
    courier = person(infra, "courier")
    response = await client.post("/api/v1/parcels/couriers", headers=courier.headers,
                                 json={"vehicle_type": "motorcycle", "vehicle_plate": "WXY 1234"})
    assert response.status_code == 201, response.text
    assert (await client.post("/api/v1/parcels/couriers/me/online",
                              headers=courier.headers)).status_code == 200
    response = await client.post("/api/v1/parcels/couriers/me/location", headers=courier.headers,
                                 json={"latitude": near["latitude"] + 0.001,
                                       "longitude": near["longitude"], "accuracy_m": 8})
    assert response.status_code == 200, response.text
    return courier


async def claimed(client, infra, customer: Person) -> tuple[dict, Person]:
    order = await paid_order(client, customer)
    courier = await online_courier(client, infra)
    response = await client.post(f"/api/v1/parcels/shipments/{order['shipment']['id']}/claim",
                                 headers=courier.headers)
    assert response.status_code == 200, response.text
    return order, courier


@asynccontextmanager
async def serve(app) -> AsyncIterator[int]:
    """An ASGI app on a real uvicorn server (this event loop, a free port); yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=1))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task
            await asyncio.sleep(0.01)
        yield port
    finally:
        server.should_exit = True
        await task
        sock.close()


class Receiver:
    """A customer's webhook endpoint on localhost: answers the next ``statuses`` in turn (then
    200) and keeps what it received, with the signature checked against ``secret``."""

    def __init__(self, secret: str, statuses: list[int] | None = None, always: int | None = None):
        self.secret, self.statuses, self.always = secret, list(statuses or []), always
        self.received: list[dict] = []

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.always or (self.statuses.pop(0) if self.statuses else 200)
        self.received.append({"at": time.monotonic(), "body": json.loads(body), "status": status,
                              "verified": verify_signature(
                                  self.secret, headers.get("x-kilat-signature", ""), body)})
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class Recorder:
    """Subscribes to the bus like another service would, keeping the events it sees."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.events.append(delivery.event)


async def listen(infra: Infrastructure, *patterns: str) -> Recorder:
    recorder = Recorder()
    await infra.bus.subscribe(f"probe-{uuid.uuid4().hex[:6]}", list(patterns), recorder)
    return recorder
