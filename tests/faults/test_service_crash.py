"""kill -9 of service processes in the middle of a journey: the supervisor restarts them, the
journey completes, and every event has its effect exactly once."""

from __future__ import annotations

import time

import httpx

from tests.e2e import journey as j
from tests.faults import checks
from tests.faults.conftest import FaultRig


def test_killed_services_are_restarted_and_the_journey_completes_with_each_effect_once(
        rig: FaultRig, record_property):
    platform = rig.platform
    owner, runner = j.register(platform.url, "owner"), j.ready_runner(platform.url)
    admin = j.admin(platform)
    booking_id = j.create_booking(owner)["id"]
    j.pay(owner, booking_id, j.create_promo(admin))
    j.accept(runner, booking_id)
    j.booking_step(runner, booking_id, "pickup", "in_progress")
    restarts_before = {name: child["restarts"] for name, child in platform.children().items()}

    killed_at = time.monotonic()
    killed = {name: checks.kill_child(platform, name) for name in ("payment", "notification")}
    response = owner.get(f"/api/v1/payments/booking/{booking_id}")
    assert response.status_code == 502, "the gateway answers for a dead upstream"
    assert response.json() == {"success": False, "error": "bad gateway",
                               "detail": "payment unavailable"}
    # the release is requested while payment is down, and booking dies right after answering
    j.booking_step(runner, booking_id, "deliver", "delivered")
    killed["booking"] = checks.kill_child(platform, "booking")

    for name, pid in killed.items():
        checks.wait_restarted(platform, name, pid)
        checks.observe(record_property, f"{name}_back_after_seconds",
                       round(time.monotonic() - killed_at, 1))
    j.wait_released(owner, booking_id, timeout=60)
    j.wait_completed(owner, booking_id, timeout=60)
    checks.observe(record_property, "journey_completed_after_kill_seconds",
                   round(time.monotonic() - killed_at, 1))

    checks.wait_drained(platform)
    checks.observe(record_property, "every_event_acknowledged_after_kill_seconds",
                   round(time.monotonic() - killed_at, 1))
    checks.assert_journey_effects_once(owner, runner, admin, booking_id)
    children = platform.children()
    for name in killed:
        assert children[name]["restarts"] == restarts_before[name] + 1, name
    others = set(children) - set(killed)
    assert all(children[name]["restarts"] == restarts_before[name] for name in others)
    assert httpx.get(f"{platform.url}/health", timeout=5).json()["status"] == "healthy"
