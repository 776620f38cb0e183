"""Several instances of a service at once: they start together on a fresh database, share one
durable consumer per service, and no side effect happens twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from kilat.platform.db import drop_database
from tests.e2e import journey as j
from tests.e2e.platform import Platform, wait_until
from tests.faults import checks
from tests.faults.conftest import FaultRig
from tests.support.harness import free_port


@contextmanager
def extra_instance(platform: Platform, service: str) -> Iterator[str]:
    """One more `kilat serve <service>` on the platform's databases and stream."""
    port = free_port()
    log = (platform.data_dir / f"extra-{service}-{port}.log").open("wb")
    command = [sys.executable, "-m", "kilat", "serve", service, "--port", str(port)]
    process = subprocess.Popen(command, env=platform.env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{url}/readiness", timeout=2).status_code == 200,
                   timeout=60, interval=0.2, message=f"second {service} instance ready")
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_instances_started_together_on_a_fresh_database_all_come_up(rig: FaultRig):
    name = f"fresh{uuid.uuid4().hex[:8]}"
    urls = {"booking": f"{rig.postgres.url}/{name}_booking",
            "review": f"{rig.postgres.url}/{name}_review"}
    env = rig.platform.env | {"KILAT_DATABASE_URLS": json.dumps(urls)}
    try:
        command = [sys.executable, "-m", "kilat", "migrate", "booking", "review", "--distributed"]
        migrations = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True) for _ in range(3)]
        outputs = [m.communicate(timeout=120)[0] for m in migrations]
        assert [m.returncode for m in migrations] == [0, 0, 0], outputs
    finally:
        for url in urls.values():
            asyncio.run(drop_database(url))


def test_two_instances_of_consuming_services_share_the_work_without_duplicate_effects(
        rig: FaultRig, record_property):
    platform = rig.platform
    with extra_instance(platform, "payment"), extra_instance(platform, "notification"):
        began = time.monotonic()
        owner, runner = j.register(platform.url, "owner"), j.ready_runner(platform.url)
        admin = j.admin(platform)
        booking_id = j.create_booking(owner)["id"]
        j.pay(owner, booking_id, j.create_promo(admin))
        j.accept(runner, booking_id)
        j.booking_step(runner, booking_id, "pickup", "in_progress")
        j.booking_step(runner, booking_id, "deliver", "delivered")
        j.wait_completed(owner, booking_id)
        j.wait_notified(runner, booking_id, {"payment.escrow_released"})
        checks.wait_drained(platform)
        checks.observe(record_property, "journey_with_two_instances_seconds",
                       round(time.monotonic() - began, 1))
        checks.assert_journey_effects_once(owner, runner, admin, booking_id)
