"""NATS restarts in the middle of a journey: writes keep working, and every event recorded while
the broker was away is delivered once it is back."""

from __future__ import annotations

import time

import httpx

from tests.e2e import journey as j
from tests.faults import checks
from tests.faults.conftest import FaultRig

OUTAGE_SECONDS = 3.0


def test_events_recorded_while_nats_is_down_are_delivered_once_after_it_restarts(
        rig: FaultRig, record_property):
    platform = rig.platform
    owner, runner = j.register(platform.url, "owner"), j.ready_runner(platform.url)
    admin = j.admin(platform)
    booking_id = j.create_booking(owner)["id"]
    j.pay(owner, booking_id)
    j.accept(runner, booking_id)

    rig.nats.stop()
    stopped_at = time.monotonic()
    try:
        time.sleep(OUTAGE_SECONDS)  # the relay and the consumers fail and back off meanwhile
        readiness = httpx.get(f"{platform.service_url('booking')}/readiness", timeout=5)
        assert readiness.status_code == 503 and readiness.json()["checks"]["broker"] != "ready"
        # the outbox keeps these transitions' events until the broker is back
        j.booking_step(runner, booking_id, "pickup", "in_progress")
        j.booking_step(runner, booking_id, "deliver", "delivered")
        unpublished = checks.unpublished(platform)
        checks.observe(record_property, "outbox_rows_waiting_for_nats", unpublished)
        assert unpublished.get("booking", 0) >= 2, unpublished
    finally:
        rig.nats.start()
    checks.observe(record_property, "nats_down_seconds", round(time.monotonic() - stopped_at, 1))

    restarted_at = time.monotonic()
    j.wait_released(owner, booking_id, timeout=60)
    j.wait_completed(owner, booking_id, timeout=60)
    checks.observe(record_property, "journey_completed_after_nats_restart_seconds",
                   round(time.monotonic() - restarted_at, 1))
    checks.wait_drained(platform)
    checks.observe(record_property, "every_event_acknowledged_after_nats_restart_seconds",
                   round(time.monotonic() - restarted_at, 1))
    checks.assert_journey_effects_once(owner, runner, admin, booking_id)
