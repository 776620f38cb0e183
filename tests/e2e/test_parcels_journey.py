"""The parcels vertical end to end through the gateway, in both profiles: an order priced by the
formula, paid through the payment service, claimed by the nearest courier (the second gets 409),
followed live, delivered with a photo, announced to the customer's webhook, publicly tracked,
counted by the daily report, and the report unchanged after the customer is erased."""

from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.sync.client import connect

from kilat.services.parcels import domain
from kilat.services.parcels.settings import ParcelsSettings
from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until

SECRET = "e2e-webhook-secret-0123456789"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128
STEPS = ["parcels.shipment_offered", "parcels.shipment_assigned", "parcels.shipment_picked_up",
         "parcels.shipment_in_transit", "parcels.shipment_delivered"]


@contextmanager
def webhook_receiver():
    """A customer's endpoint on localhost that checks every signature."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server name
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": json.loads(raw), "verified": domain.verify_signature(
                SECRET, self.headers.get("X-Kilat-Signature", ""), raw)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()


def courier_at(url: str, place: dict) -> j.User:
    courier = j.register(url, "courier", "E2E Courier")
    j.body(courier.post("/api/v1/parcels/couriers",
                        {"vehicle_type": "motorcycle", "vehicle_plate": "WXY 1234"}), 201)
    j.body(courier.post("/api/v1/parcels/couriers/me/online"))
    j.body(courier.post("/api/v1/parcels/couriers/me/location",
                        {"latitude": place["latitude"] + 0.002, "longitude": place["longitude"],
                         "accuracy_m": 6}))
    return courier


def report_row(admin: j.User, city: str) -> dict:
    today = datetime.now(UTC).date().isoformat()
    rows = j.body(admin.post("/api/v1/parcels/admin/reports", {"date": today}), 201)["rows"]
    return next(r for r in rows if r["city"] == city)


def test_a_parcel_from_order_to_doorstep_with_live_tracking_webhooks_and_report(platform: Platform):
    url = platform.url
    city = f"E2E City {uuid.uuid4().hex[:6]}"
    pickup = {"line1": "1 Jalan Ampang", "city": city, "latitude": 3.1579, "longitude": 101.7123,
              "contact_name": "Siti", "contact_phone": "+60123456789"}
    dropoff = {"line1": "9 Jalan SS2/24", "city": city, "latitude": 3.1185, "longitude": 101.6235,
               "contact_name": "Ravi", "contact_phone": "+60198765432"}
    item = {"description": "books", "weight_kg": 3, "length_cm": 40, "width_cm": 30,
            "height_cm": 20, "quantity": 1}
    customer = j.register(url, "customer", "Siti Customer")
    first, second = courier_at(url, pickup), courier_at(url, pickup)
    with webhook_receiver() as (hook_url, received):
        j.body(customer.post("/api/v1/parcels/webhooks", {"url": hook_url, "secret": SECRET}), 201)
        body = {"pickup_address": pickup, "dropoff_address": dropoff, "items": [item],
                "service_level": "express"}
        order = j.body(customer.post("/api/v1/parcels/orders", body,
                                     headers={"Idempotency-Key": f"e2e-{uuid.uuid4()}"}), 201)
        expected = domain.quote((pickup["latitude"], pickup["longitude"]),
                                (dropoff["latitude"], dropoff["longitude"]),
                                [domain.Item(3, 40, 30, 20, 1)], "express",
                                ParcelsSettings().pricing_rules())
        assert (order["price"], order["chargeable_kg"]) == (expected.price, 5.0)  # volumetric 4.8
        paying = customer.post(f"/api/v1/parcels/orders/{order['id']}/pay")
        assert paying.status_code in (200, 202), paying.text
        wait_until(lambda: j.body(customer.get(f"/api/v1/parcels/orders/{order['id']}"))["status"]
                   == "paid", timeout=30, message="the payment service captured the charge")
        shipment_id, number = order["shipment"]["id"], order["shipment"]["tracking_number"]
        wait_until(lambda: any(job["shipment_id"] == shipment_id for job in
                               j.body(first.get("/api/v1/parcels/jobs"))), message="job listed")
        j.body(first.post(f"/api/v1/parcels/shipments/{shipment_id}/claim"))
        assert second.post(f"/api/v1/parcels/shipments/{shipment_id}/claim").status_code == 409

        session = j.body(customer.post(f"/api/v1/parcels/orders/{order['id']}/tracking-sessions"), 201)
        ws_url = url.replace("http://", "ws://") + session["websocket_path"]
        with connect(ws_url, open_timeout=10) as socket:
            assert _next(socket, "snapshot")["status"] == "assigned"
            points = [(3.150, 101.700), (3.140, 101.680), (3.130, 101.660)]
            for lat, lng in points:
                j.body(first.post("/api/v1/parcels/couriers/me/location",
                                  {"latitude": lat, "longitude": lng, "accuracy_m": 5}))
            seen = [(f["latitude"], f["longitude"]) for f in (_next(socket, "location") for _ in points)]
            assert seen == points
            j.body(first.post(f"/api/v1/parcels/shipments/{shipment_id}/pickup"))
            j.body(first.post(f"/api/v1/parcels/shipments/{shipment_id}/in-transit"))
            delivered = first.http.post(f"/api/v1/parcels/shipments/{shipment_id}/deliver",
                                        data={"recipient_name": "Ravi"},
                                        files={"photo": ("pod.png", PNG, "image/png")})
            assert j.body(delivered)["status"] == "delivered"
            statuses = [_next(socket, "status")["status"] for _ in range(3)]
            assert statuses == ["picked_up", "in_transit", "delivered"]
        photo = j.client(url).get(j.body(delivered)["proof_photo_url"])
        assert photo.status_code == 200 and photo.content == PNG

        wait_until(lambda: len(received) >= len(STEPS), timeout=30, message="every webhook")
        assert sorted(r["body"]["type"] for r in received) == sorted(STEPS)
        assert all(r["verified"] for r in received)
        assert {r["body"]["data"]["tracking_number"] for r in received} == {number}

    tracked = j.body(j.client(url).get(f"/api/v1/parcels/track/{number}"))
    assert [e["status"] for e in tracked["timeline"]] == [
        "pending", "pending", "assigned", "picked_up", "in_transit", "delivered"]
    assert "Siti" not in json.dumps(tracked) and "Ravi" not in json.dumps(tracked)

    admin = j.admin(platform)
    row = report_row(admin, city)
    assert (row["orders"], row["delivered"], row["on_time_percent"]) == (1, 1, 100.0)
    erased = j.body(admin.post(f"/api/v1/parcels/admin/customers/{customer.id}/erase"))
    assert erased["photos_deleted"] == 1
    assert report_row(admin, city) == row
    shown = admin.get(f"/api/v1/parcels/orders/{order['id']}").text
    assert "Siti" not in shown and "Ravi" not in shown and customer.email not in shown


def _next(socket, kind: str) -> dict:
    while True:
        frame = json.loads(socket.recv(timeout=15))
        if frame["type"] == kind:
            return frame
