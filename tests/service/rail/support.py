"""The rail service with the demo timetable, its passengers, and the payment service's answers."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy import MetaData, select

from kilat.contracts.charges import ChargeCaptured, ChargeFailed, ChargeRefunded, RefundFailed
from kilat.platform.events import Event
from kilat.platform.events.tables import event_tables
from kilat.platform.runtime import Infrastructure, ServiceRuntime
from kilat.services.rail import descriptor
from kilat.services.rail.demo import seed_timetable
from kilat.services.rail.settings import RailSettings
from kilat.services.rail.timetable import DHAKA
from tests.support.harness import running_service, wait_for
from tests.support.people import Person, person, settle

_OUTBOX = event_tables(MetaData()).outbox
RAIL = "/api/v1/rail"


def tomorrow() -> date:
    return datetime.now(DHAKA).date() + timedelta(days=1)


@dataclass
class Rail:
    runtime: ServiceRuntime
    client: httpx.AsyncClient
    infra: Infrastructure

    def passenger(self) -> Person:
        return person(self.infra, "passenger")

    async def journey(self, origin: str = "DHK", destination: str = "CTG",
                      day: date | None = None, train: str = "701") -> dict:
        response = await self.client.get(f"{RAIL}/journeys/search", params={
            "from": origin, "to": destination, "date": str(day or tomorrow())})
        assert response.status_code == 200, response.text
        return next(j for j in response.json()["data"] if j["train_number"] == train)

    async def seats(self, journey_id: str) -> list[dict]:
        response = await self.client.get(f"{RAIL}/journeys/{journey_id}/seats")
        assert response.status_code == 200, response.text
        return [seat | {"coach": coach["code"], "fare": coach["fare"]}
                for coach in response.json()["data"]["coaches"] for seat in coach["seats"]]

    async def hold(self, who: Person, journey_id: str, seat_ids: list[str]) -> httpx.Response:
        return await self.client.post(f"{RAIL}/holds", headers=who.headers,
                                      json={"journey_id": journey_id, "seat_ids": seat_ids})

    async def book(self, who: Person, hold: dict, names: list[str] | None = None) -> dict:
        names = names or [f"Passenger {n}" for n in range(len(hold["seat_ids"]))]
        response = await self.client.post(f"{RAIL}/bookings", headers=who.headers, json={
            "hold_id": hold["id"], "passengers": [
                {"name": name, "seat_id": seat} for name, seat in zip(names, hold["seat_ids"])]})
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def events(self, event_type: str) -> list[dict]:
        async with self.runtime.database.session(write=False) as session:
            rows = await session.execute(select(_OUTBOX.c.payload)
                                         .where(_OUTBOX.c.type == event_type)
                                         .order_by(_OUTBOX.c.created_at))
            return [row[0]["data"] for row in rows]

    async def code(self, booking_id: str) -> str:
        sent = [e for e in await self.events("rail.booking_otp") if e["booking_id"] == booking_id]
        return sent[-1]["code"]

    async def verified(self, who: Person, booking: dict) -> dict:
        response = await self.client.post(f"{RAIL}/bookings/{booking['id']}/verify",
                                          headers=who.headers,
                                          json={"code": await self.code(booking["id"])})
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def charge_of(self, booking_id: str) -> dict:
        return [e for e in await self.events("rail.charge_requested")
                if e["reference_id"] == booking_id][-1]

    async def answer(self, contract) -> None:
        """The payment service's answer, delivered over the bus as it would be."""
        await self.infra.bus.publish(Event(source="payment", type=contract.TYPE,
                                           subject=str(contract.charge_id), data=contract.data()))

    async def capture(self, booking_id: str) -> None:
        charge = await self.charge_of(booking_id)
        await self.answer(ChargeCaptured(charge_id=charge["charge_id"], source="rail",
                                         reference_id=booking_id, payer_id=charge["payer_id"],
                                         amount=charge["amount"], currency="BDT"))

    async def decline(self, booking_id: str, reason: str = "card declined") -> None:
        charge = await self.charge_of(booking_id)
        await self.answer(ChargeFailed(charge_id=charge["charge_id"], source="rail",
                                       reference_id=booking_id, reason=reason))

    async def refund_answer(self, booking_id: str, amount: int) -> None:
        refund = [e for e in await self.events("rail.refund_requested")
                  if e["reference_id"] == booking_id][-1]
        await self.answer(ChargeRefunded(charge_id=refund["charge_id"], source="rail",
                                         reference_id=booking_id, refund_id=refund["refund_id"],
                                         amount=amount, refunded_total=amount, currency="BDT"))

    async def refund_failure(self, booking_id: str, reason: str) -> None:
        refund = [e for e in await self.events("rail.refund_requested")
                  if e["reference_id"] == booking_id][-1]
        await self.answer(RefundFailed(charge_id=refund["charge_id"], source="rail",
                                       reference_id=booking_id, refund_id=refund["refund_id"],
                                       reason=reason))

    async def get(self, who: Person, booking_id: str) -> dict:
        response = await self.client.get(f"{RAIL}/bookings/{booking_id}", headers=who.headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def wait_status(self, who: Person, booking_id: str, status: str) -> dict:
        async def reached():
            booking = await self.get(who, booking_id)
            return booking if booking["status"] == status else None
        return await wait_for(reached, timeout=10)

    async def confirmed(self, who: Person, seats: int = 2, journey: dict | None = None) -> dict:
        """A paid booking of the first free seats of a journey (train 701 tomorrow)."""
        journey = journey or await self.journey()
        free = [s["id"] for s in await self.seats(journey["journey_id"])
                if s["state"] == "available"][:seats]
        hold = (await self.hold(who, journey["journey_id"], free)).json()["data"]
        booking = await self.book(who, hold)
        await self.verified(who, booking)
        response = await self.client.post(f"{RAIL}/bookings/{booking['id']}/pay",
                                          headers=who.headers)
        assert response.status_code == 202, response.text
        await settle(self.runtime)
        await self.capture(booking["id"])
        return await self.wait_status(who, booking["id"], "confirmed")


@asynccontextmanager
async def rail_service(infra: Infrastructure, *, database_url: str | None = None,
                       days: int = 3, **settings):
    infra.service_settings["rail"] = RailSettings(**({"pay_wait_seconds": 0.0,
                                                      "sweep_seconds": 0.2} | settings))
    async with running_service(descriptor, infra, database_url=database_url) as (runtime, client):
        async with runtime.database.session() as session:
            await seed_timetable(session, days=days)
        yield Rail(runtime, client, infra)


def new_id() -> str:
    return str(uuid.uuid4())
