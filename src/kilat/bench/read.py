"""``read``: authenticated ``GET /api/v1/bookings/{id}`` through the gateway at 64 connections."""

from __future__ import annotations

import random

from kilat.bench.actors import create_booking, expect, registered
from kilat.bench.loadgen import build_request, closed_loop
from kilat.bench.platform import Platform, ResourceMonitor
from kilat.bench.results import Result, Target
from kilat.simulate.stats import Stats

TARGETS = [Target("throughput_per_s", 6000, at_most=False), Target("p99_ms", 50)]


async def run(platform: Platform, *, quick: bool) -> list[Result]:
    connections, seconds, bookings = (8, 1.0, 4) if quick else (64, 10.0, 50)
    stats = Stats()
    owner = await registered(platform, "owner", stats, "bench-read")
    rng = random.Random(11)
    try:
        ids = [(await expect(create_booking(owner, rng), "booking"))["id"] for _ in range(bookings)]
        requests = [build_request("GET", f"/api/v1/bookings/{booking_id}", token=owner.access_token)
                    for booking_id in ids]
    finally:
        await owner.aclose()

    def make(index: int, sequence: int) -> bytes:
        return requests[(index + sequence) % len(requests)]

    monitor = ResourceMonitor(platform.processes(), label=f"read-{platform.profile}", seconds=seconds)
    load = await closed_loop("127.0.0.1", platform.port, connections, seconds, make)
    figures = load.figures() | await monitor.stop()
    figures["error_samples"] = load.error_samples
    return [Result("read", platform.profile, f"{connections} connections, {seconds:g} s", figures,
                   TARGETS if platform.profile == "embedded" else [], http=True)]
