"""Builders for runner service tests (shared with the integration tests)."""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from kilat.platform.events import new_event
from kilat.platform.runtime import Infrastructure, ServiceRuntime
from kilat.services.runner import descriptor
from kilat.services.runner.live import LiveRunners
from kilat.services.runner.settings import RunnerSettings
from tests.support import builders
from tests.support.harness import auth_headers, running_service, wait_for

KLCC = (3.1579, 101.7116)
PET_DOG = {"pet_type": "dog", "weight_kg": 18.5}  # needs a large crate holding 22.2 kg


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def runner_test_settings(**overrides) -> RunnerSettings:
    values = {"location_flush_seconds": 3600, "purge_interval_seconds": 3600,
              "stale_after_seconds": 120, "gps_max_accuracy_m": 100}
    return RunnerSettings(**(values | overrides))


def offset(origin: tuple[float, float], north_km: float = 0.0, east_km: float = 0.0):
    """A point ``north_km``/``east_km`` from ``origin`` (good to a metre over a few km)."""
    import math

    lat = origin[0] + north_km / 111.195
    return lat, origin[1] + east_km / (111.195 * math.cos(math.radians(origin[0])))


@dataclass
class RunnerApp:
    infra: Infrastructure
    runtime: ServiceRuntime
    client: httpx.AsyncClient
    clock: FakeClock

    @property
    def live(self) -> LiveRunners:
        return self.runtime.context.live

    def headers(self, role: str = "owner", user_id: uuid.UUID | None = None) -> dict:
        return auth_headers(self.infra, role, user_id)

    async def register(self, *, user_id: uuid.UUID | None = None, **body) -> tuple[dict, dict]:
        headers = self.headers("runner", user_id or uuid.uuid4())
        response = await self.client.post("/api/v1/runners", json=builders.runner_profile(**body),
                                          headers=headers)
        assert response.status_code == 201, response.text
        return headers, response.json()["data"]

    async def add_crate(self, headers: dict, **body) -> dict:
        response = await self.client.post("/api/v1/runners/me/crates", json=builders.crate(**body),
                                          headers=headers)
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def online(self, headers: dict, point: tuple[float, float]) -> httpx.Response:
        return await self.client.post("/api/v1/runners/me/online", headers=headers,
                                      json={"latitude": point[0], "longitude": point[1]})

    async def online_runner(self, point: tuple[float, float], *crates: dict,
                            **profile) -> tuple[dict, dict]:
        headers, runner = await self.register(**profile)
        for crate in crates:
            await self.add_crate(headers, **crate)
        response = await self.online(headers, point)
        assert response.status_code == 200, response.text
        return headers, runner

    async def ping(self, headers: dict, point: tuple[float, float], **extra) -> httpx.Response:
        return await self.client.post("/api/v1/runners/me/location", headers=headers,
                                      json={"latitude": point[0], "longitude": point[1]} | extra)

    async def nearby(self, point: tuple[float, float], **params) -> httpx.Response:
        query = {"latitude": point[0], "longitude": point[1]} | params
        return await self.client.get("/api/v1/runners/nearby", params=query,
                                     headers=self.headers("owner"))

    async def nearby_ids(self, point: tuple[float, float], **params) -> list[str]:
        response = await self.nearby(point, **params)
        assert response.status_code == 200, response.text
        return [r["user_id"] for r in response.json()["data"]]

    async def capture_pings(self) -> list[dict]:
        """Every ``runner.location_update`` published on the telemetry fast path from now on."""
        seen: list[dict] = []

        async def collect(payload: dict) -> None:
            seen.append(payload)

        await self.infra.bus.subscribe_fast("runner.location_update", collect)
        return seen

    async def emit(self, type: str, **data) -> None:
        await self.infra.bus.publish(new_event(type, data, source="test"))

    async def me(self, headers: dict) -> dict:
        response = await self.client.get("/api/v1/runners/me", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]


@asynccontextmanager
async def runner_app(infra: Infrastructure, *, database_url: str | None = None, **settings):
    infra.service_settings["runner"] = runner_test_settings(**settings)
    async with running_service(descriptor, infra, database_url=database_url) as (runtime, client):
        clock = FakeClock()
        runtime.context.live.clock = clock
        yield RunnerApp(infra, runtime, client, clock)
