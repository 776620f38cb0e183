"""What "nothing lost, nothing twice" means, checked on a platform's own databases and stream."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter

import asyncpg
import httpx
import nats

from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until


def observe(record_property, name: str, value: object) -> None:
    """Report what a fault test saw: in the JUnit properties and on the test's stdout."""
    record_property(name, value)
    print(f"observed {name} = {value}")


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _unpublished(platform: Platform) -> dict[str, int]:
    counts = {}
    for service, url in json.loads(platform.env["KILAT_DATABASE_URLS"]).items():
        conn = await asyncpg.connect(_dsn(url), timeout=5)
        try:
            counts[service] = await conn.fetchval(
                "SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
        finally:
            await conn.close()
    return counts


async def _undelivered(platform: Platform) -> dict[str, tuple[int, int]]:
    client = await nats.connect(platform.env["KILAT_NATS_URL"], connect_timeout=3,
                                max_reconnect_attempts=0)
    try:
        consumers = await client.jetstream().consumers_info(platform.env["KILAT_NATS_STREAM"])
        return {c.name: (c.num_pending, c.num_ack_pending) for c in consumers}
    finally:
        await client.close()


def unpublished(platform: Platform) -> dict[str, int]:
    """Services with outbox rows not yet published to the broker."""
    return {k: v for k, v in asyncio.run(_unpublished(platform)).items() if v}


def undelivered(platform: Platform) -> dict[str, tuple[int, int]]:
    """Durable consumers with events not yet delivered or not yet acknowledged."""
    counts = asyncio.run(asyncio.wait_for(_undelivered(platform), timeout=10))
    return {k: v for k, v in counts.items() if v != (0, 0)}


def backlog(platform: Platform) -> dict[str, dict]:
    return {"unpublished": unpublished(platform), "undelivered": undelivered(platform)}


def wait_drained(platform: Platform, timeout: float = 45.0) -> None:
    """Every event recorded has been published, delivered and acknowledged by every consumer."""
    last: dict = {}

    def drained() -> bool:
        nonlocal last
        last = backlog(platform)
        return not last["unpublished"] and not last["undelivered"]

    try:
        wait_until(drained, timeout=timeout, interval=0.3, message="events drained")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; backlog: {last}") from None


def notification_counts(user: j.User, booking_id: str) -> Counter:
    return Counter(n["type"] for n in j.notifications(user, booking_id))


def assert_journey_effects_once(owner: j.User, runner: j.User, admin: j.User,
                                booking_id: str) -> None:
    """Each fact of the journey had its effect exactly once."""
    history = [h["to_status"] for h in j.body(owner.get(f"/api/v1/bookings/{booking_id}/history"))]
    assert history == ["requested", "accepted", "in_progress", "delivered", "completed"], history
    owner_kinds = notification_counts(owner, booking_id)
    for kind in ("booking.accepted", "booking.pet_picked_up", "booking.delivery_confirmed",
                 "booking.completed", "payment.escrow_held"):
        assert owner_kinds[kind] == 1, (kind, owner_kinds)
    assert notification_counts(runner, booking_id)["payment.escrow_released"] == 1
    payment = j.payment_of(owner, booking_id)
    assert payment["escrow_status"] == "released" and payment["runner_id"] == runner.id
    ledger = j.body(admin.get("/api/v1/admin/payments/ledger"))
    assert ledger["balanced"] and not ledger["escrow_mismatches"], ledger
    trips = j.body(owner.get(f"/api/v1/runners/{runner.id}"))["total_trips"]
    assert trips == 1, f"the runner's trip was counted {trips} times"


def kill_child(platform: Platform, name: str) -> int:
    """SIGKILL one supervised service process; returns its pid."""
    pid = platform.children()[name]["pid"]
    assert pid, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    return pid


def wait_restarted(platform: Platform, name: str, old_pid: int, timeout: float = 60.0) -> float:
    """Seconds until the supervisor's new process for ``name`` answers /health."""
    began = time.monotonic()

    def back() -> bool:
        child = platform.children()[name]
        if child["pid"] in (None, old_pid):
            return False
        return httpx.get(f"http://127.0.0.1:{child['port']}/health", timeout=2).status_code == 200

    wait_until(back, timeout=timeout, interval=0.1, message=f"{name} restarted")
    return time.monotonic() - began
