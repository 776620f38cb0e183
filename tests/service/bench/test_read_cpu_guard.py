"""Regression guard for the read path (issue 15): an owner's ``GET /api/v1/bookings/{id}`` through
the embedded gateway may cost at most 50 % more CPU per request, as a ratio to the bare ASGI
endpoint measured in the same process and run, than the committed baseline
(``bench/baselines/read_cpu_ratio.json``). A ratio, so a slower or busier machine does not trip it.

After a deliberate change to the read path's cost, refresh the baseline on a quiet machine:

    KILAT_REFRESH_READ_CPU_BASELINE=1 .venv/bin/python -m pytest tests/service/bench/test_read_cpu_guard.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from kilat.app import build_embedded_app
from kilat.bench import bare
from kilat.bench.actors import booking_body
from kilat.bench.results import machine
from tests.support.harness import make_settings

BASELINE = Path(__file__).parents[3] / "bench" / "baselines" / "read_cpu_ratio.json"
ALLOWED_GROWTH = 1.5
ROUNDS, READS, BARE_REQUESTS, WARMUP, BOOKINGS = 7, 150, 300, 50, 5


async def cpu_per_request(call: Callable[[int], Awaitable[None]], count: int) -> float:
    """CPU seconds of this whole process (every thread) per call, over ``count`` calls."""
    began = time.process_time()
    for index in range(count):
        await call(index)
    return (time.process_time() - began) / count


async def measure_read_to_bare_ratio(data_dir: Path) -> dict:
    gateway = build_embedded_app(make_settings(data_dir, log_level="WARNING"), services=["booking"])
    async with gateway.router.lifespan_context(gateway):
        infra = gateway.state.runtimes["booking"].infra
        token = infra.issuer.access_token(uuid.uuid4(), "guard-owner@example.com", "owner")
        headers = {"Authorization": f"Bearer {token}"}
        async with (httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway),
                                      base_url="http://127.0.0.1", headers=headers) as platform,
                    httpx.AsyncClient(transport=httpx.ASGITransport(app=bare.app),
                                      base_url="http://127.0.0.1", headers=headers) as baseline):
            rng = random.Random(15)
            ids = []
            for _ in range(BOOKINGS):
                created = await platform.post("/api/v1/bookings", json=booking_body(rng))
                assert created.status_code == 201, created.text
                ids.append(created.json()["data"]["id"])

            async def read(index: int) -> None:
                answer = await platform.get(f"/api/v1/bookings/{ids[index % BOOKINGS]}")
                assert answer.status_code == 200, answer.text

            async def bare_get(_index: int) -> None:
                assert (await baseline.get("/bare")).status_code == 200

            await cpu_per_request(read, WARMUP)
            await cpu_per_request(bare_get, WARMUP)
            rounds = []
            for _ in range(ROUNDS):  # alternated, so a burst of load elsewhere hits both sides
                bare_cpu = await cpu_per_request(bare_get, BARE_REQUESTS)
                read_cpu = await cpu_per_request(read, READS)
                rounds.append((read_cpu, bare_cpu))
    return {"ratio": round(statistics.median(r / b for r, b in rounds), 2),
            "read_cpu_ms": round(statistics.median(r for r, _ in rounds) * 1000, 3),
            "bare_cpu_ms": round(statistics.median(b for _, b in rounds) * 1000, 3),
            "round_ratios": [round(r / b, 2) for r, b in rounds]}


async def test_read_path_cpu_per_request_stays_within_half_again_its_baseline_ratio_to_bare(tmp_path):
    measured = await measure_read_to_bare_ratio(tmp_path)

    if os.environ.get("KILAT_REFRESH_READ_CPU_BASELINE"):
        BASELINE.write_text(json.dumps(
            {**measured, "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
             "machine": machine(), "refresh": __doc__.strip().splitlines()[-1].strip()}, indent=2) + "\n")
    baseline = json.loads(BASELINE.read_text())
    limit = baseline["ratio"] * ALLOWED_GROWTH
    assert measured["ratio"] <= limit, (
        f"an owner's booking read costs {measured['ratio']}x the bare endpoint's CPU per request "
        f"(baseline {baseline['ratio']}x, limit {limit:.2f}x): {measured}")
