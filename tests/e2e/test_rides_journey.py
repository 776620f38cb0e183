"""A ride through the gateway, in both profiles: two people sign in by phone, the driver 400 m
away is offered the request and the one 3 km away is not, both sides confirm, the driver's 26
timed fixes along 5.2 km meter 15,000 IDR, arrival at 0.8 splits 12,000 into 600 + 11,400, the
passenger accepts and the payment service's answer ends the ride paid, with the payout on the
driver's balance."""

from __future__ import annotations

import json
import math
import random
import re
from datetime import datetime, timedelta

from websockets.sync.client import connect

from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until

# The fixes below are 0.1 s apart (208 m each): a real phone would take minutes. The speed
# filter is the unit and service tests' business; here the whole stack's billing is, so the
# e2e platforms run with KILAT_RIDES_MAX_SPEED_KMH raised (tests/e2e/platform.py BASE_ENV).

PICKUP = (-6.2000, 106.8166)
M_PER_DEGREE_LAT = math.pi * 6371.0 / 180 * 1000


def north(metres: float, origin: tuple[float, float] = PICKUP) -> dict[str, float]:
    return {"latitude": origin[0] + metres / M_PER_DEGREE_LAT, "longitude": origin[1]}


def phone_user(platform: Platform, admin: j.User, role: str, name: str) -> j.User:
    """Signed in by phone: a code asked for, read from the development SMS sink, verified."""
    phone = f"+62812{random.randrange(10**7, 10**8)}"
    with j.client(platform.url) as anonymous:
        j.body(anonymous.post("/api/v1/auth/otp/request", json={"phone": phone}), 202)
        code = wait_until(lambda: _code_for(admin, phone), message=f"SMS code for {phone}")
        auth = j.body(anonymous.post("/api/v1/auth/otp/verify", json={
            "phone": phone, "code": code, "role": role, "full_name": name}))
    return j.signed_in(platform.url, auth)


def _code_for(admin: j.User, phone: str) -> str | None:
    response = admin.get("/api/v1/admin/notifications/sink", params={"recipient": phone})
    if response.status_code != 200:
        return None
    for message in j.body(response):
        if found := re.search(r"\b(\d{6})\b", message["body"]):
            return found[1]
    return None


def driver_on_duty(platform: Platform, admin: j.User, metres_north: float, name: str) -> j.User:
    driver = phone_user(platform, admin, "driver", name)
    j.body(driver.post("/api/v1/rides/drivers", {"vehicle_type": "motorcycle",
                                                 "vehicle_plate": "B 4321 KIL"}), 201)
    j.body(driver.post("/api/v1/rides/drivers/me/beacon",
                       north(metres_north) | {"available": True}))
    return driver


def socket(url: str, user: j.User):
    return connect(f"{url.replace('http://', 'ws://')}/ws/rides?token={user.token}",
                   open_timeout=10)


def next_frame(ws, event: str, timeout: float = 15.0) -> dict:
    deadline = datetime.now() + timedelta(seconds=timeout)
    while True:
        left = (deadline - datetime.now()).total_seconds()
        assert left > 0, f"no {event} frame"
        frame = json.loads(ws.recv(timeout=left))
        if frame["event"] == event:
            return frame


def test_a_passenger_rides_5_2_km_and_pays_the_drivers_adjusted_fare(platform: Platform):
    url, admin = platform.url, j.admin(platform)
    passenger = phone_user(platform, admin, "passenger", "Sari Penumpang")
    near = driver_on_duty(platform, admin, 400, "Budi Dekat")
    far = driver_on_duty(platform, admin, 3000, "Joko Jauh")
    assert (passenger.role, near.role) == ("passenger", "driver")

    with socket(url, near) as near_socket, socket(url, passenger) as passenger_socket:
        request = j.body(passenger.post("/api/v1/rides/requests", {
            "pickup": north(0), "destination": north(5200)}), 201)
        offer = next_frame(near_socket, "offer")["data"]
        assert offer["request_id"] == request["id"]
        assert abs(offer["distance_km"] - 0.4) < 0.01
        assert j.body(far.get("/api/v1/rides/offers")) == []

        accepted = j.body(near.post(f"/api/v1/rides/offers/{offer['id']}/accept"))
        assert accepted["status"] == "driver_found"
        found = next_frame(passenger_socket, "driver_found")["data"]
        assert found["driver"]["user_id"] == near.id
        ride = j.body(passenger.post(f"/api/v1/rides/requests/{request['id']}/confirm"), 201)
        assert ride["status"] == "pickup"
        ride_id = ride["id"]

        started = j.body(near.post(f"/api/v1/rides/{ride_id}/start", north(30)))
        assert started["status"] == "ongoing"
        start = datetime.fromisoformat(started["started_at"])
        for i in range(26):
            at = start + timedelta(seconds=0.1 * (i + 1))
            fix = j.body(near.post(f"/api/v1/rides/{ride_id}/location",
                                   north(30 + 208 * i) | {"recorded_at": at.isoformat()}))
        assert (fix["distance_m"], fix["fare_so_far"]) == (5200, 15_000)
        position = next_frame(passenger_socket, "driver_location")["data"]
        assert position["ride_id"] == ride_id

    arrived = j.body(near.post(f"/api/v1/rides/{ride_id}/arrive", {"adjustment_factor": 0.8}))
    assert {k: arrived[k] for k in ("status", "distance_m", "fare", "adjusted_fare", "admin_fee",
                                    "driver_payout", "currency")} == {
        "status": "awaiting_payment", "distance_m": 5200, "fare": 15_000,
        "adjusted_fare": 12_000, "admin_fee": 600, "driver_payout": 11_400, "currency": "IDR"}

    paying = passenger.post(f"/api/v1/rides/{ride_id}/payment", {"decision": "accept"})
    assert paying.status_code in (200, 202), paying.text
    paid = wait_until(lambda: (r := j.body(passenger.get(f"/api/v1/rides/{ride_id}")))
                      ["status"] == "completed" and r, timeout=30,
                      message="the payment service answered and the ride completed")
    assert (paid["payment_status"], paid["adjusted_fare"]) == ("paid", 12_000)
    balance = wait_until(lambda: (b := j.body(near.get("/api/v1/payouts/balance")))
                         ["available_cents"] and b,
                         timeout=30, message="the payout reached the driver's balance")
    assert (balance["available_cents"], balance["currency"]) == (11_400, "IDR")
    for user in (passenger, near):
        told = wait_until(lambda u=user: {"rides.confirmed", "rides.started", "rides.arrived",
                                          "rides.completed"} <= _told(u) and _told(u),
                          timeout=30, message=f"the {user.role} told of each step")
        assert "rides.driver_found" in told


def _told(user: j.User) -> set[str]:
    return {n["type"] for n in j.notifications(user) if n["type"].startswith("rides.")}
