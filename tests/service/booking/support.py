"""Booking tests: bookings driven through the API to a status, photos, event reads."""

from __future__ import annotations

import httpx
from sqlalchemy import MetaData, select

from kilat.platform.events.tables import event_tables
from tests.support.builders import booking_body
from tests.support.people import People, Person

SMALL_DOG_PICKUP = (3.139, 101.6869)
SMALL_DOG_DROPOFF = (3.15, 101.71)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)


async def create_booking(client: httpx.AsyncClient, owner: Person, **overrides) -> dict:
    response = await client.post("/api/v1/bookings", json=booking_body(**overrides),
                                 headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def act(client: httpx.AsyncClient, booking_id: str, step: str, person: Person,
              json: dict | None = None) -> httpx.Response:
    return await client.post(f"/api/v1/bookings/{booking_id}/{step}", headers=person.headers,
                             json=json)


async def booking_at(client: httpx.AsyncClient, people: People, status: str) -> dict:
    """A booking of ``people.owner`` driven by ``people.runner`` up to ``status``."""
    booking = await create_booking(client, people.owner)
    steps = {"requested": [], "accepted": ["accept"], "in_progress": ["accept", "pickup"],
             "delivered": ["accept", "pickup", "deliver"],
             "completed": ["accept", "pickup", "deliver"], "cancelled": []}[status]
    for step in steps:
        response = await act(client, booking["id"], step, people.runner)
        assert response.status_code == 200, response.text
        booking = response.json()["data"]
    if status == "completed":
        booking = (await act(client, booking["id"], "confirm", people.owner)).json()["data"]
    if status == "cancelled":
        booking = (await act(client, booking["id"], "cancel", people.owner)).json()["data"]
    assert booking["status"] == status
    return booking


async def outbox_events(runtime, event_type: str | None = None,
                        booking_id: str | None = None) -> list[dict]:
    """Events the service recorded, oldest first, as their ``{"type", "data"}`` payloads."""
    outbox = event_tables(MetaData()).outbox
    async with runtime.database.session(write=False) as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.created_at)))
        payloads = [row.payload for row in rows]
    return [p for p in payloads
            if (event_type is None or p["type"] == event_type)
            and (booking_id is None or p["data"].get("booking_id") == booking_id)]


