"""PostgreSQL restarts under a live journey: fast 503s while it is down, nothing acknowledged
is lost."""

from __future__ import annotations

import time

from tests.e2e import journey as j
from tests.e2e.platform import wait_until
from tests.faults import checks
from tests.faults.conftest import FaultRig

OUTAGE_SECONDS = 3.0


def timed(call):
    began = time.monotonic()
    response = call()
    return response, time.monotonic() - began


def test_requests_fail_fast_with_503_while_postgres_is_down_and_no_acknowledged_write_is_lost(
        rig: FaultRig, record_property):
    url = rig.platform.url
    owner = j.register(url, "owner")
    runner = j.ready_runner(url)
    booking_id = j.create_booking(owner)["id"]
    j.pay(owner, booking_id)
    j.accept(runner, booking_id)
    j.booking_step(runner, booking_id, "pickup", "in_progress")
    j.booking_step(runner, booking_id, "deliver", "delivered")
    last_write = j.create_booking(owner)  # acknowledged just before the stop

    rig.postgres.stop()
    down_at = time.monotonic()
    try:
        time.sleep(OUTAGE_SECONDS)  # relays, consumers and pooled connections fail meanwhile
        answers = {
            "read": timed(lambda: owner.get(f"/api/v1/bookings/{booking_id}")),
            "write": timed(lambda: owner.post("/api/v1/bookings", {
                "pet_spec": j.PET, "pickup_address": j.PICKUP, "dropoff_address": j.DROPOFF})),
            "login": timed(lambda: owner.http.post("/api/v1/auth/login", json={
                "email": owner.email, "password": j.PASSWORD})),
            "payment": timed(lambda: owner.get(f"/api/v1/payments/booking/{booking_id}")),
        }
    finally:
        rig.postgres.start()
    outage = time.monotonic() - down_at
    checks.observe(record_property, "postgres_outage_seconds", round(outage, 2))
    for name, (response, seconds) in answers.items():
        checks.observe(record_property, f"{name}_while_down",
                       f"{response.status_code} in {seconds:.2f}s")
        assert response.status_code == 503, (name, response.status_code, response.text)
        assert response.json()["success"] is False
        assert seconds < 6, f"{name} took {seconds:.1f}s: requests must fail fast"

    recovered = time.monotonic()
    assert wait_until(lambda: j.booking_status(owner, booking_id), timeout=30,
                      message="booking service reconnects") in ("delivered", "completed")
    checks.observe(record_property, "reconnected_after_seconds",
                   round(time.monotonic() - recovered, 2))
    kept = j.body(owner.get(f"/api/v1/bookings/{last_write['id']}"))
    assert (kept["booking_number"], kept["status"]) == (last_write["booking_number"], "requested")
    j.wait_released(owner, booking_id, timeout=60)
    j.wait_completed(owner, booking_id, timeout=60)
    checks.observe(record_property, "journey_completed_after_seconds",
                   round(time.monotonic() - recovered, 2))
    j.wait_notified(owner, booking_id, {"booking.delivery_confirmed", "booking.completed"})
    checks.wait_drained(rig.platform)
    checks.assert_journey_effects_once(owner, runner, j.admin(rig.platform), booking_id)
    j.booking_step(owner, j.create_booking(owner)["id"], "cancel", "cancelled")  # writes work
