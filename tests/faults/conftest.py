"""One distributed platform for the fault tests, on a private PostgreSQL cluster and a private NATS
server (so both may be restarted) and the shared Redis (db 15, the run's own key prefix).

The tests share it to keep CI short; each starts once every service is ready again and leaves it
that way, and each works on its own users and bookings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.platform import DistributedPlan, Platform, start_distributed, wait_until
from tests.faults.servers import PrivateNats, PrivatePostgres
from tests.support.harness import require_redis

# the defaults an operator runs with: a handler is tried 5 times over ~8 s before it is
# dead-lettered, and a failing delivery is retried for ~30 s in all
FAULT_ENV = {"KILAT_EVENT_MAX_DELIVERIES": "5", "KILAT_EVENT_RETRY_BASE_SECONDS": "0.5"}


@dataclass
class FaultRig:
    platform: Platform
    postgres: PrivatePostgres
    nats: PrivateNats

    def ready(self) -> bool:
        """Every service process answers /readiness (its database and broker are reachable)."""
        for name in self.platform.children():
            if name == "gateway":
                continue
            try:
                response = httpx.get(f"{self.platform.service_url(name)}/readiness", timeout=3)
            except httpx.HTTPError:
                return False
            if response.status_code != 200:
                return False
        return httpx.get(f"{self.platform.url}/health", timeout=5).status_code == 200


@pytest.fixture(scope="package")
def fault_rig(tmp_path_factory) -> Iterator[FaultRig]:
    require_redis()
    postgres, nats = PrivatePostgres(), PrivateNats()
    try:
        postgres.init()
        postgres.start()
        nats.start()
        plan = DistributedPlan.new(postgres_url=postgres.url, nats_url=nats.url)
        platform = start_distributed(tmp_path_factory.mktemp("kilat-faults"), plan, FAULT_ENV)
        try:
            yield FaultRig(platform, postgres, nats)
        finally:
            platform.stop()
    finally:
        nats.close()
        postgres.close()


@pytest.fixture
def rig(fault_rig: FaultRig) -> FaultRig:
    wait_until(fault_rig.ready, timeout=60, interval=0.3, message="every service ready")
    return fault_rig
