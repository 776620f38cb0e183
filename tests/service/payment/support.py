"""Builders for payment tests: a fake booking service, booking events, people, waiting."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx

from kilat.contracts.base import Contract
from kilat.contracts.booking import BookingFact
from kilat.platform.events import Event
from kilat.platform.models import utcnow
from kilat.platform.runtime import Infrastructure, ServiceRuntime
from kilat.services.payment import descriptor
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.settings import PaymentSettings
from tests.service.payment.faults import faulty_context
from tests.support.bookings import fake_booking_service
from tests.support.harness import auth_headers, running_service, wait_for

FAST_SETTINGS = dict(worker_poll_seconds=0.05, cash_out_rail_delay_seconds=0.2,
                     booking_lookup_wait_seconds=0.3, sweep_interval_seconds=3600,
                     action_retry_base_seconds=0.05)


def fast_settings(**overrides) -> PaymentSettings:
    return PaymentSettings(**(FAST_SETTINGS | overrides))


@dataclass
class Person:
    user_id: uuid.UUID
    headers: dict[str, str]


@dataclass
class World:
    """One running payment service and the booking facts the test feeds it."""

    infra: Infrastructure
    runtime: ServiceRuntime
    client: httpx.AsyncClient
    bookings: dict[str, dict] = field(default_factory=dict)
    published: list[dict] = field(default_factory=list)

    @property
    def ctx(self) -> PaymentContext:
        return self.runtime.context

    def person(self, role: str) -> Person:
        user_id = uuid.uuid4()
        return Person(user_id, auth_headers(self.infra, role, user_id))

    @property
    def admin(self) -> Person:
        return self.person("admin")

    async def publish(self, type_: str, data: dict[str, Any], *, at=None) -> None:
        event = Event(source="booking", type=type_, subject=data.get("booking_id"),
                      data={**data, "occurred_at": (at or utcnow()).isoformat()})
        await self.infra.bus.publish(event)

    async def send(self, contract: Contract) -> None:
        """Publish a contract as the service owning its type would (``rides.*`` from rides)."""
        await self.infra.bus.publish(Event(source=contract.TYPE.split(".", 1)[0],
                                           type=contract.TYPE, subject=contract.subject,
                                           data=contract.data()))

    async def book(self, owner: Person, *, price: int = 4423, status: str = "requested",
                   runner: Person | None = None, announce: bool = True,
                   known_to_booking_service: bool = True) -> str:
        booking_id = str(uuid.uuid4())
        booking = {"id": booking_id, "booking_id": booking_id,
                   "booking_number": f"BK-{booking_id[:6].upper()}",
                   "owner_id": str(owner.user_id),
                   "runner_id": str(runner.user_id) if runner else None, "status": status,
                   "estimated_price_cents": price, "currency": "MYR",
                   "updated_at": utcnow().isoformat()}
        if known_to_booking_service:
            self.bookings[booking_id] = booking
        if announce:
            await self.publish("booking.requested", _event_data(booking, status="requested"))
            if status != "requested":
                await self.publish(f"booking.{status}", _event_data(booking))
        return booking_id

    async def move(self, booking_id: str, type_: str, status: str, **extra) -> None:
        booking = self.bookings[booking_id]
        booking.update(status=status, updated_at=utcnow().isoformat(),
                       **{k: v for k, v in extra.items() if k == "runner_id"})
        await self.publish(type_, _event_data(booking) | extra)

    async def accept(self, booking_id: str, runner: Person) -> None:
        await self.move(booking_id, "booking.accepted", "accepted", runner_id=str(runner.user_id))

    async def deliver(self, booking_id: str) -> None:
        await self.move(booking_id, "booking.delivery_confirmed", "delivered",
                        delivered_at=utcnow().isoformat())

    async def complete(self, booking_id: str) -> None:
        booking = self.bookings[booking_id]
        await self.move(booking_id, "booking.completed", "completed",
                        final_price_cents=booking["estimated_price_cents"])

    async def cancel(self, booking_id: str, reason: str = "changed my mind") -> None:
        await self.move(booking_id, "booking.cancelled", "cancelled", reason=reason,
                        cancelled_by=self.bookings[booking_id]["owner_id"],
                        cancelled_by_role="owner")

    async def pay(self, owner: Person, booking_id: str, **body) -> httpx.Response:
        return await self.client.post("/api/v1/payments/initiate",
                                      json={"booking_id": booking_id, **body},
                                      headers=owner.headers)

    async def payment(self, payment_id: str) -> dict:
        response = await self.client.get(f"/api/v1/payments/{payment_id}",
                                         headers=self.admin.headers)
        return response.json()["data"]

    async def payment_in(self, payment_id: str, status: str, timeout: float = 5.0) -> dict:
        async def reached():
            payment = await self.payment(payment_id)
            return payment if payment["escrow_status"] == status else None

        return await wait_for(reached, timeout)

    async def remember(self, booking_ids: list[str]) -> None:
        """Put bookings into the read model in one transaction, as their events would."""
        from kilat.services.payment.bookings import apply_booking_fact

        async with self.runtime.database.session() as session:
            for booking_id in booking_ids:
                fact = BookingFact.model_validate(_event_data(self.bookings[booking_id]))
                await apply_booking_fact(session, fact, utcnow())

    async def seen(self, booking_id: str, status: str) -> None:
        """Wait until the payment service's read model has the booking in ``status``."""
        from kilat.services.payment.models import BookingView

        async def arrived():
            async with self.runtime.database.session(write=False) as session:
                view = await session.get(BookingView, uuid.UUID(booking_id))
                return view is not None and view.status == status

        await wait_for(arrived)

    async def ledger(self) -> dict:
        response = await self.client.get("/api/v1/admin/payments/ledger",
                                         headers=self.admin.headers)
        return response.json()["data"]

    async def promo(self, code: str = "SAVE10", **terms) -> dict:
        body = {"code": code, "discount_type": "percentage", "discount_value": 10,
                "valid_from": (utcnow() - timedelta(days=1)).isoformat(),
                "valid_until": (utcnow() + timedelta(days=30)).isoformat()} | terms
        response = await self.client.post("/api/v1/promos", json=body, headers=self.admin.headers)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    def events(self, type_: str) -> list[dict]:
        return [e["data"] for e in self.published if e["type"] == type_]

    async def await_events(self, type_: str, count: int = 1, timeout: float = 5.0) -> list[dict]:
        """The data of ``type_`` events the service published, once ``count`` have arrived."""

        async def arrived():
            found = self.events(type_)
            return found if len(found) >= count else None

        return await wait_for(arrived, timeout)


def _event_data(booking: dict, **override) -> dict:
    data = {key: booking[key] for key in ("booking_id", "booking_number", "owner_id", "runner_id",
                                          "status", "estimated_price_cents", "currency")}
    return data | override


@asynccontextmanager
async def payment_world(infra: Infrastructure, *, database_url: str | None = None,
                        consume: bool = True, **settings) -> AsyncIterator[World]:
    """The payment service with a fake booking service; the books must balance afterwards."""
    infra.service_settings["payment"] = fast_settings(**settings)
    bookings: dict[str, dict] = {}
    infra.service_apps["booking"] = fake_booking_service(infra, bookings)
    faulty = replace(descriptor, context=faulty_context)
    async with running_service(faulty, infra, database_url=database_url,
                               consume=consume) as (runtime, client):
        world = World(infra, runtime, client, bookings)

        async def record(delivery) -> None:
            world.published.append(delivery.event.model_dump(mode="json"))

        await infra.bus.subscribe(f"recorder_{uuid.uuid4().hex[:8]}", ["payment.*"], record)
        yield world
        await world.runtime.relay.drain()
        report = await world.ledger()
        assert report["balanced"], report
