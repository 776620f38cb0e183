"""Builders for booking tests: the spec's priced journey, people with real tokens, event reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import httpx
from sqlalchemy import MetaData, select

from kilat.platform.events.tables import event_tables
from kilat.platform.runtime import Infrastructure
from tests.support.harness import auth_headers, wait_for

# spec §3.3 test vectors
VECTOR_PICKUP = (3.1590, 101.7123)
VECTOR_DROPOFF = (3.1073, 101.6420)
SMALL_DOG_PICKUP = (3.139, 101.6869)
SMALL_DOG_DROPOFF = (3.15, 101.71)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(40)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(40)


@dataclass
class Person:
    role: str
    user_id: uuid.UUID
    headers: dict[str, str]

    @property
    def id(self) -> str:
        return str(self.user_id)


@dataclass
class People:
    infra: Infrastructure
    made: dict[str, Person] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Person:
        """``people.owner``, ``people.runner2``, ``people.admin``: one person per name."""
        if name.startswith("_") or name in ("infra", "made"):
            raise AttributeError(name)
        if name not in self.made:
            role = name.rstrip("0123456789").removeprefix("other_")
            user_id = uuid.uuid4()
            self.made[name] = Person(role, user_id, auth_headers(self.infra, role, user_id))
        return self.made[name]


def address(lat: float, lng: float, line1: str = "12 Jalan Ampang") -> dict:
    return {"line1": line1, "line2": "", "city": "Kuala Lumpur", "state": "WP",
            "postal_code": "50450", "country": "MY", "latitude": lat, "longitude": lng}


def booking_body(pet_type: str = "dog", weight_kg: float = 18.5, pickup=VECTOR_PICKUP,
                 dropoff=VECTOR_DROPOFF, **overrides) -> dict:
    body = {
        "pet_spec": {"pet_type": pet_type, "name": "Rex", "weight_kg": weight_kg,
                     "breed": "Golden Retriever", "age_months": 36, "special_needs": "",
                     "photo_url": "",
                     "vaccinations": [{"vaccine_name": "Rabies",
                                       "date_given": "2025-01-01T00:00:00Z",
                                       "expires_at": None, "vet_name": "", "verified": False}]},
        "pickup_address": address(*pickup),
        "dropoff_address": address(*dropoff, line1="1 Jalan Bangsar"),
        "scheduled_at": None,
        "notes": "gentle with him",
    }
    body.update(overrides)
    return body


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


