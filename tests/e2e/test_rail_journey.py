"""A rail trip through the gateway, in both profiles: the demo timetable seeded by `kilat rail
seed`, a search DHK -> CTG, two seats held (another passenger's hold of one refused), a booking
for two confirmed by the code from the SMS/e-mail sink, paid through the payment service, two
signed tickets (QR, PNG, PDF), the gate letting one through once, and another booking cancelled
for the refund the table gives."""

from __future__ import annotations

import base64
import json
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until

RAIL = "/api/v1/rail"
DHAKA = ZoneInfo("Asia/Dhaka")


def passenger(platform: Platform, name: str) -> tuple[j.User, str]:
    phone = f"+88017{random.randrange(10**7, 10**8)}"
    with j.client(platform.url) as anonymous:
        auth = j.body(anonymous.post("/api/v1/auth/register", json={
            "email": f"rail-{uuid.uuid4().hex[:10]}@example.com", "password": j.PASSWORD,
            "full_name": name, "role": "passenger", "phone": phone}), 201)
    return j.signed_in(platform.url, auth), phone


def gate_staff(platform: Platform, admin: j.User) -> j.User:
    email = f"gate-{uuid.uuid4().hex[:10]}@example.com"
    j.body(admin.post("/api/v1/admin/users", {"email": email, "password": j.PASSWORD,
                                              "full_name": "Gate Kamalapur", "role": "gate"}), 201)
    return j.login(platform.url, email)


def todays_train(admin: j.User) -> str:
    """A train of our own on DHK-CTG leaving in 40 minutes, so its tickets are for today."""
    number = f"E{random.randrange(10**6, 10**7)}"
    train = j.body(admin.post(f"{RAIL}/admin/trains", {"number": number, "name": "E2E Express",
        "coaches": [{"code": "KA", "travel_class": "snigdha", "base_fare": 82_800, "seats": 50},
                    {"code": "GA", "travel_class": "shovan_chair", "base_fare": 40_500,
                     "seats": 60}]}), 201)
    route = next(r for r in j.body(admin.get(f"{RAIL}/admin/routes")) if r["code"] == "DHK-CTG")
    departure = datetime.now(UTC) + timedelta(minutes=40)
    j.body(admin.post(f"{RAIL}/admin/journeys", {"train_id": train["id"], "route_id": route["id"],
                                                 "departure_at": departure.isoformat()}), 201)
    return number


def search(url: str, day: str, train: str) -> dict:
    with j.client(url) as anonymous:  # search is public
        options = j.body(anonymous.get(f"{RAIL}/journeys/search",
                                       params={"from": "DHK", "to": "CTG", "date": day}))
    return next(o for o in options if o["train_number"] == train)


def free_seats(url: str, journey_id: str, count: int) -> list[str]:
    with j.client(url) as anonymous:
        seat_map = j.body(anonymous.get(f"{RAIL}/journeys/{journey_id}/seats"))
    return [s["id"] for c in seat_map["coaches"] for s in c["seats"]
            if s["state"] == "available"][:count]


def code_for(admin: j.User, recipients: tuple[str, ...], pnr: str) -> str | None:
    for recipient in filter(None, recipients):
        response = admin.get("/api/v1/admin/notifications/sink", params={"recipient": recipient})
        if response.status_code != 200:
            continue
        for message in j.body(response):
            if pnr in message["body"] and (found := re.search(r"\b(\d{6})\b", message["body"])):
                return found[1]
    return None


def hold_seats(who: j.User, journey_id: str, seats: list[str]) -> dict:
    return j.body(who.post(f"{RAIL}/holds", {"journey_id": journey_id, "seat_ids": seats}), 201)


def booked_and_paid(admin: j.User, who: j.User, phone: str, hold: dict,
                    names: list[str]) -> dict:
    booking = j.body(who.post(f"{RAIL}/bookings", {"hold_id": hold["id"], "passengers": [
        {"name": name, "seat_id": seat} for name, seat in zip(names, hold["seat_ids"])]}), 201)
    assert booking["status"] == "pending_otp" and len(booking["pnr"]) == 10
    code = wait_until(lambda: code_for(admin, (phone, who.email), booking["pnr"]),
                      timeout=30, message="the booking code in the sink")
    assert j.body(who.post(f"{RAIL}/bookings/{booking['id']}/verify", {"code": code}))[
        "status"] == "pending_payment"
    paying = who.post(f"{RAIL}/bookings/{booking['id']}/pay",
                      headers={"Idempotency-Key": f"pay-{booking['id']}"})
    assert paying.status_code in (200, 202), paying.text
    return wait_until(lambda: (b := j.body(who.get(f"{RAIL}/bookings/{booking['id']}")))[
        "status"] == "confirmed" and b, timeout=30, message="booking confirmed by the payment")


def altered(code: str) -> str:
    prefix, payload, signature = code.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields["name"] = "Somebody Else"
    raw = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return f"{prefix}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"


def test_passenger_books_two_seats_pays_boards_once_and_another_booking_is_refunded(
        platform: Platform, tmp_path):
    seeded = platform.kilat("rail", "seed", "--days", "4")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    admin = j.admin(platform)
    train = todays_train(admin)
    ana, ana_phone = passenger(platform, "Ana Rahman")
    budi, _ = passenger(platform, "Budi Hasan")

    today = datetime.now(DHAKA).date()
    journey = search(platform.url, str((datetime.now(UTC) + timedelta(minutes=40))
                                       .astimezone(DHAKA).date()), train)
    assert {c["travel_class"]: c["fare"] for c in journey["classes"]} == {
        "snigdha": 82_800, "shovan_chair": 40_500}
    seats = free_seats(platform.url, journey["journey_id"], 2)
    hold = hold_seats(ana, journey["journey_id"], seats)
    refused = budi.post(f"{RAIL}/holds", {"journey_id": journey["journey_id"],
                                          "seat_ids": [seats[1]]})
    assert refused.status_code == 409 and seats[1] in refused.json()["detail"]

    booking = booked_and_paid(admin, ana, ana_phone, hold, ["Ana Rahman", "Rafi Rahman"])
    # the first free seats are in coach GA (shovan chair, 405 taka each)
    assert [line["coach"] for line in booking["lines"]] == ["GA", "GA"]
    assert booking["total_fare"] == 2 * 40_500 and booking["currency"] == "BDT"
    tickets = j.body(ana.get(f"{RAIL}/bookings/{booking['id']}/tickets"))
    assert sorted(t["passenger_name"] for t in tickets) == ["Ana Rahman", "Rafi Rahman"]
    assert all(t["status"] == "valid" and t["qr"].startswith("KR1.") for t in tickets)
    png = ana.get(f"{RAIL}/tickets/{tickets[0]['id']}/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    pdf = ana.get(f"{RAIL}/tickets/{tickets[0]['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    key = tmp_path / "rail-qr.pub.pem"
    with j.client(platform.url) as anonymous:
        key.write_text(j.body(anonymous.get(f"{RAIL}/keys"))["public_key_pem"])
    assert platform.kilat("rail", "verify", tickets[0]["qr"], "--public-key",
                          str(key)).returncode == 0
    assert platform.kilat("rail", "verify", altered(tickets[0]["qr"]), "--public-key",
                          str(key)).returncode == 1

    gate = gate_staff(platform, admin)
    passed = j.body(gate.post(f"{RAIL}/gate/validate", {"qr": tickets[0]["qr"]}))
    assert (passed["passenger_name"], passed["seat"]) == (tickets[0]["passenger_name"],
                                                          tickets[0]["seat"])
    assert gate.post(f"{RAIL}/gate/validate", {"qr": tickets[0]["qr"]}).status_code == 409
    assert gate.post(f"{RAIL}/gate/validate", {"qr": altered(tickets[1]["qr"])}).status_code == 400

    later = search(platform.url, str(today + timedelta(days=3)), "701")
    other = booked_and_paid(admin, budi, "", hold_seats(
        budi, later["journey_id"], free_seats(platform.url, later["journey_id"], 1)),
        ["Budi Hasan"])
    cancelled = j.body(budi.post(f"{RAIL}/bookings/{other['id']}/cancel",
                                 {"reason": "plans changed"}))
    # more than 48 h before departure: 90 % back, minus the 50 taka fee
    assert cancelled["refund_amount"] == other["total_fare"] * 90 // 100 - 5000
    assert cancelled["status"] == "cancelled"
    wait_until(lambda: j.body(budi.get(f"{RAIL}/bookings/{other['id']}"))["refund_status"]
               == "refunded", timeout=30, message="refund answered by the payment service")
    with j.client(platform.url) as anonymous:
        seat_map = j.body(anonymous.get(f"{RAIL}/journeys/{later['journey_id']}/seats"))
    states = {s["id"]: s["state"] for c in seat_map["coaches"] for s in c["seats"]}
    assert states[other["lines"][0]["seat_id"]] == "available"
