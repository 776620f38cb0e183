"""The pet-delivery journey in steps, over real HTTP through the gateway (shared by e2e and
fault tests). Each step asserts what a client would see; waits are bounded polls."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from kilat.platform.events.tables import event_tables
from kilat.services import SERVICES
from tests.e2e.platform import Platform, wait_until

PASSWORD = "correct-horse-battery"
# specs/kilat.md §3.3: dog 18.5 kg, (3.1590, 101.7123) → (3.1073, 101.6420) costs 4423 sen
PICKUP = {"line1": "12 Jalan Ampang", "city": "Kuala Lumpur", "state": "WP",
          "postal_code": "50450", "country": "MY", "latitude": 3.1590, "longitude": 101.7123}
DROPOFF = {"line1": "1 Jalan Bangsar", "city": "Kuala Lumpur", "state": "WP",
           "postal_code": "59100", "country": "MY", "latitude": 3.1073, "longitude": 101.6420}
PET = {"pet_type": "dog", "name": "Rex", "weight_kg": 18.5, "breed": "Golden Retriever"}
SPEC_PRICE_CENTS = 4423


def body(response: httpx.Response, status: int = 200) -> dict:
    """The envelope's data, after checking the status and the envelope."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url.path}: "
        f"{response.status_code} {response.text[:500]}")
    payload = response.json()
    assert payload["success"] is True, payload
    return payload["data"]


@dataclass
class User:
    id: str
    email: str
    role: str
    token: str
    http: httpx.Client = field(repr=False)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, json_body: object = None, **kwargs) -> httpx.Response:
        return self.http.post(path, json=json_body, **kwargs)


def client(url: str, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=15, trust_env=False)


def signed_in(url: str, auth: dict) -> User:
    user = auth["user"]
    return User(user["id"], user["email"], user["role"], auth["access_token"],
                client(url, auth["access_token"]))


def register(url: str, role: str, name: str | None = None) -> User:
    email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
    with client(url) as anonymous:
        auth = body(anonymous.post("/api/v1/auth/register", json={
            "email": email, "password": PASSWORD, "full_name": name or f"E2E {role.title()}",
            "role": role}), 201)
    return signed_in(url, auth)


def login(url: str, email: str, password: str = PASSWORD) -> User:
    with client(url) as anonymous:
        auth = body(anonymous.post("/api/v1/auth/login",
                                   json={"email": email, "password": password}))
    return signed_in(url, auth)


def admin(platform: Platform) -> User:
    """An admin made the only way there is: `kilat admin create` on the platform's data."""
    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    result = platform.kilat("admin", "create", "--email", email, "--password", PASSWORD)
    assert result.returncode == 0, result.stdout + result.stderr
    return login(platform.url, email)


def ready_runner(url: str, latitude: float = PICKUP["latitude"],
                 longitude: float = PICKUP["longitude"]) -> User:
    """A runner with a profile and a large dog crate, online at the pickup."""
    runner = register(url, "runner", "E2E Runner")
    profile = body(runner.post("/api/v1/runners", {
        "vehicle_type": "car", "vehicle_plate": "WXY 1234", "air_conditioned": True}), 201)
    assert profile["user_id"] == runner.id
    crate = body(runner.post("/api/v1/runners/me/crates", {
        "size": "large", "pet_types": ["dog"], "max_weight_kg": 30}), 201)
    assert crate["size"] == "large"
    online = body(runner.post("/api/v1/runners/me/online",
                              {"latitude": latitude, "longitude": longitude}))
    assert online["message"] == "runner is now online"
    return runner


def create_booking(owner: User) -> dict:
    booking = body(owner.post("/api/v1/bookings", {
        "pet_spec": PET, "pickup_address": PICKUP, "dropoff_address": DROPOFF}), 201)
    assert booking["status"] == "requested"
    assert booking["estimated_price_cents"] == SPEC_PRICE_CENTS
    return booking


def create_promo(admin_user: User, percent: int = 10) -> str:
    now = datetime.now(UTC)
    code = f"E2E{uuid.uuid4().hex[:8].upper()}"
    promo = body(admin_user.post("/api/v1/promos", {
        "code": code.lower(), "discount_type": "percentage", "discount_value": percent,
        "valid_from": (now - timedelta(hours=1)).isoformat(),
        "valid_until": (now + timedelta(days=1)).isoformat()}), 201)
    assert promo["code"] == code, "codes are stored upper-cased"
    return code


def pay(owner: User, booking_id: str, promo_code: str | None = None) -> dict:
    request = {"booking_id": booking_id} | ({"promo_code": promo_code} if promo_code else {})
    return body(owner.post("/api/v1/payments/initiate", request,
                           headers={"Idempotency-Key": uuid.uuid4().hex}), 201)


def job_is_listed(runner: User, booking_id: str) -> bool:
    jobs = body(runner.get("/api/v1/bookings", params={"status": "requested", "limit": 100}))
    return any(job["id"] == booking_id for job in jobs)


def accept(runner: User, booking_id: str) -> dict:
    wait_until(lambda: job_is_listed(runner, booking_id), message="runner sees the open job")
    accepted = body(runner.post(f"/api/v1/bookings/{booking_id}/accept"))
    assert accepted["status"] == "accepted" and accepted["runner_id"] == runner.id
    return accepted


def booking_step(user: User, booking_id: str, step: str, expected_status: str) -> dict:
    booking = body(user.post(f"/api/v1/bookings/{booking_id}/{step}"))
    assert booking["status"] == expected_status
    return booking


def booking_status(user: User, booking_id: str) -> str | None:
    response = user.get(f"/api/v1/bookings/{booking_id}")
    return response.json()["data"]["status"] if response.status_code == 200 else None


def wait_completed(owner: User, booking_id: str, timeout: float = 30.0) -> None:
    wait_until(lambda: booking_status(owner, booking_id) == "completed", timeout=timeout,
               message="booking completed after the escrow release")


def payment_of(user: User, booking_id: str) -> dict | None:
    response = user.get(f"/api/v1/payments/booking/{booking_id}")
    return response.json()["data"] if response.status_code == 200 else None


def wait_released(owner: User, booking_id: str, timeout: float = 30.0) -> dict:
    return wait_until(lambda: (p := payment_of(owner, booking_id)) and
                      p["escrow_status"] == "released" and p, timeout=timeout,
                      message="escrow released to the runner")


def notifications(user: User, booking_id: str | None = None) -> list[dict]:
    items = body(user.get("/api/v1/notifications", params={"limit": 100}))
    return [n for n in items if booking_id is None or n.get("booking_id") == booking_id]


def wait_notified(user: User, booking_id: str, kinds: set[str],
                  timeout: float = 30.0) -> list[dict]:
    """The user's notifications about the booking, once every kind in ``kinds`` arrived."""
    return wait_until(
        lambda: (found := notifications(user, booking_id)) and
        kinds <= {n["type"] for n in found} and found,
        timeout=timeout, message=f"{user.role} notified of {sorted(kinds)}")


# --- the events a journey leaves behind ---------------------------------------------------------

OUTBOX = event_tables(MetaData()).outbox


def events_about(platform: Platform, booking_id: str) -> Counter[str]:
    """Every event the services recorded about the booking (their outbox rows), by type."""
    return Counter(asyncio.run(_recorded_about(platform, booking_id)))


def _database_urls(platform: Platform) -> dict[str, str]:
    if platform.profile == "distributed":
        return json.loads(platform.env["KILAT_DATABASE_URLS"])
    data = (platform.data_dir / "data").resolve()
    return {name: f"sqlite+aiosqlite:///{data / f'{name}.db'}" for name in SERVICES}


async def _recorded_about(platform: Platform, booking_id: str) -> list[str]:
    types: list[str] = []
    for url in _database_urls(platform).values():
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                rows = (await connection.execute(select(OUTBOX.c.type, OUTBOX.c.payload))).all()
        finally:
            await engine.dispose()
        types += [row.type for row in rows if row.payload["data"].get("booking_id") == booking_id]
    return types


# --- live tracking over the WebSocket ------------------------------------------------------------


def websocket_url(url: str, booking_id: str, token: str) -> str:
    return f"{url.replace('http://', 'ws://')}/ws/tracking/{booking_id}?token={token}"


def open_tracking(url: str, booking_id: str, token: str, timeout: float = 20.0) -> ClientConnection:
    """The owner's live socket, once tracking has learnt of the acceptance (the socket itself
    opens as soon as the booking is requested, but pings before the trip starts go nowhere)."""
    with client(url, token) as http:
        wait_until(lambda: http.get(f"/api/v1/tracking/{booking_id}").status_code == 200,
                   timeout=timeout, interval=0.1, message="tracking knows the trip")

    def attempt() -> ClientConnection | None:
        try:
            return connect(websocket_url(url, booking_id, token), open_timeout=5)
        except InvalidStatus as exc:
            assert exc.response.status_code == 404, exc.response.status_code
            return None

    return wait_until(attempt, timeout=timeout, interval=0.2, message="tracking socket opens")


def route_points(count: int = 5) -> list[tuple[float, float]]:
    """From the pickup towards the dropoff in steps of ~30 m, slow enough for every GPS filter."""
    lat, lng = PICKUP["latitude"], PICKUP["longitude"]
    return [(round(lat - 0.0002 * i, 6), round(lng - 0.0002 * i, 6)) for i in range(1, count + 1)]


def send_pings(runner: User, points: list[tuple[float, float]]) -> None:
    start = datetime.now(UTC) - timedelta(seconds=5 * len(points))
    for i, (lat, lng) in enumerate(points):
        ack = body(runner.post("/api/v1/runners/me/location", {
            "latitude": lat, "longitude": lng, "speed_kmh": 25, "heading_degrees": 225,
            "accuracy_m": 5, "timestamp": (start + timedelta(seconds=5 * i)).isoformat()}))
        assert ack["accepted"] is True, ack


def receive_locations(socket: ClientConnection, count: int, timeout: float = 15.0) -> list[dict]:
    """The next ``count`` location frames (other frame types are skipped)."""
    frames: list[dict] = []
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while len(frames) < count:
        left = (deadline - datetime.now(UTC)).total_seconds()
        assert left > 0, f"only {len(frames)} of {count} location frames arrived: {frames}"
        try:
            frame = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            continue
        if frame.get("type") == "location_update":
            frames.append(frame)
    return frames
