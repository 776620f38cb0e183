"""``ingest``: GPS pings per second one process takes, over HTTP and over the tracking WebSocket.

HTTP: ``POST /api/v1/runners/me/location`` straight to the runner service (the gateway in the
embedded profile), from many online runners, each moving at 60 km/h between its pings so the
filter accepts them as real movement. A ping counts when the answer says ``accepted: true``.

WebSocket: assigned runners of active trips stream ``{"type": "location"}`` frames on
``/ws/tracking/{booking_id}`` straight to the tracking service. Frames carry no answer, so every
200 frames the runner sends a ``ping`` frame and waits for its ``pong``: the socket reads frames
in order, so the pong proves every frame before it was taken.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kilat.bench.actors import create_booking, expect, gather_limited, minted, registered, runner_online
from kilat.bench.loadgen import build_request, closed_loop
from kilat.bench.platform import BenchError, Platform, ResourceMonitor
from kilat.bench.results import Result, Target
from kilat.simulate.city import KM_PER_DEGREE
from kilat.simulate.client import UserClient
from kilat.simulate.stats import Stats, percentile

ORIGIN = (3.139, 101.6869)
SPEED_KMH = 60.0
PONG_EVERY = 200
ACCEPTED = re.compile(rb'"accepted":(\d+)')


@dataclass
class MovingRunner:
    token: str
    latitude: float
    longitude: float
    last: float = 0.0

    def ping(self, now: float) -> dict:
        """Move north at SPEED_KMH for the time since the last ping (a fresh runner: 10 m)."""
        seconds = now - self.last if self.last else 0.6
        self.latitude += min(SPEED_KMH * seconds / 3600, 0.5) / KM_PER_DEGREE
        self.last = now
        return {"latitude": round(self.latitude, 7), "longitude": self.longitude,
                "speed_kmh": SPEED_KMH, "heading_degrees": 0.0, "accuracy_m": 5.0}


async def online_runners(platform: Platform, count: int, stats: Stats) -> list[MovingRunner]:
    base = f"http://127.0.0.1:{platform.service_port('runner')}"
    clients = [minted(platform, "runner", stats, base) for _ in range(count)]
    side = math.ceil(math.sqrt(count))

    def setup(i: int, client: UserClient):
        lat, lng = ORIGIN[0] + (i // side) * 0.01, ORIGIN[1] + (i % side) * 0.01
        return lambda: expect(runner_online(client, lat, lng), "runner online")

    try:
        await gather_limited((setup(i, c) for i, c in enumerate(clients)), 16)
    finally:
        for client in clients:
            await client.aclose()
    return [MovingRunner(c.access_token, ORIGIN[0] + (i // side) * 0.01, ORIGIN[1] + (i % side) * 0.01)
            for i, c in enumerate(clients)]


async def run_http(platform: Platform, *, quick: bool) -> Result:
    count, connections, seconds = (20, 8, 1.0) if quick else (1500, 64, 8.0)
    stats = Stats()
    runners = await online_runners(platform, count, stats)
    accepted = 0
    moved = 0

    def make(index: int, sequence: int) -> bytes:
        runner = runners[(sequence * connections + index) % len(runners)]
        return build_request("POST", "/api/v1/runners/me/location", token=runner.token,
                             body=runner.ping(time.monotonic()))

    def check(status: int, body: bytes) -> bool:
        nonlocal accepted, moved
        ok = status == 200 and b'"accepted":true' in body
        accepted += ok
        moved += ok and b"stationary" not in body
        return ok

    monitor = ResourceMonitor(platform.processes(), label=f"ingest-http-{platform.profile}",
                              seconds=seconds)
    load = await closed_loop("127.0.0.1", platform.service_port("runner"), connections, seconds,
                             make, check)
    figures = load.figures() | await monitor.stop()
    figures["throughput_per_s"] = round(accepted / load.seconds, 1) if load.seconds else 0.0
    figures |= {"runners": count, "moved_fraction": round(moved / max(accepted, 1), 3),
                "error_samples": load.error_samples}
    target = [Target("throughput_per_s", 10_000, at_most=False)]
    return Result("ingest", platform.profile, f"HTTP, {count} runners, {connections} connections",
                  figures, target, http=True)


BATCH = 50
STEP_M = 10.0  # per fix of a batch: beyond the jitter, within the speed limit at the 1 s floor


def batch_of(runner: MovingRunner, now: float) -> dict:
    """``BATCH`` fixes taken since the runner's last batch, ``STEP_M`` apart, the newest now."""
    began = runner.last or now - BATCH
    fixes = []
    for k in range(1, BATCH + 1):
        runner.latitude += STEP_M / 1000 / KM_PER_DEGREE
        taken = began + (now - began) * k / BATCH
        fixes.append({"latitude": round(runner.latitude, 7), "longitude": runner.longitude,
                      "speed_kmh": 36.0, "accuracy_m": 5.0,
                      "timestamp": datetime.fromtimestamp(taken, UTC).isoformat()})
    runner.last = now
    return {"fixes": fixes}


async def run_http_batched(platform: Platform, *, quick: bool) -> Result:
    count, connections, seconds = (20, 8, 1.0) if quick else (1500, 32, 8.0)
    stats = Stats()
    runners = await online_runners(platform, count, stats)
    accepted = 0

    def make(index: int, sequence: int) -> bytes:
        runner = runners[(sequence * connections + index) % len(runners)]
        return build_request("POST", "/api/v1/runners/me/locations", token=runner.token,
                             body=batch_of(runner, time.time()))

    def check(status: int, body: bytes) -> bool:
        nonlocal accepted
        found = ACCEPTED.search(body) if status == 200 else None
        accepted += int(found.group(1)) if found else 0
        return found is not None

    monitor = ResourceMonitor(platform.processes(), label=f"ingest-batch-{platform.profile}",
                              seconds=seconds)
    load = await closed_loop("127.0.0.1", platform.service_port("runner"), connections, seconds,
                             make, check)
    figures = load.figures() | await monitor.stop()
    figures["requests_per_s"] = figures.get("throughput_per_s")
    figures["throughput_per_s"] = round(accepted / load.seconds, 1) if load.seconds else 0.0
    figures |= {"runners": count, "fixes_per_request": BATCH, "throughput_is": "accepted fixes/s",
                "error_samples": load.error_samples}
    return Result("ingest", platform.profile,
                  f"HTTP batched ({BATCH} fixes), {count} runners, {connections} connections",
                  figures, [Target("throughput_per_s", 30_000, at_most=False)], http=True)


async def active_trips(platform: Platform, count: int, stats: Stats) -> list[tuple[str, str]]:
    """``count`` accepted bookings as (booking id, its online runner's token), trips known to
    tracking."""
    owner = await registered(platform, "owner", stats, "bench-ingest")
    rng = random.Random(5)
    trips = []
    try:
        for _ in range(count):
            booking = await expect(create_booking(owner, rng), "booking")
            runner = minted(platform, "runner", stats)
            # an app streams its fixes once its runner is online, as the runner service requires
            await expect(runner_online(runner, *ORIGIN), "runner online")
            await expect(runner.call("accept", "POST", f"/api/v1/bookings/{booking['id']}/accept"),
                         "accept")
            trips.append((booking["id"], runner.access_token))
            await runner.aclose()
    finally:
        await owner.aclose()
    return trips


async def stream(url: str, seconds: float, counts: list[int], latencies: list[float]) -> None:
    socket = await _connect_when_trip_known(url)
    try:
        stop_at, lat = time.monotonic() + seconds, ORIGIN[0]
        while time.monotonic() < stop_at:
            for _ in range(PONG_EVERY):
                lat += 10 / 1000 / KM_PER_DEGREE
                await socket.send(json.dumps({"type": "location", "latitude": lat,
                                              "longitude": ORIGIN[1], "speed_kmh": 36.0,
                                              "accuracy_m": 5.0}))
            began = time.perf_counter()
            await socket.send('{"type":"ping"}')
            while json.loads(await socket.recv()).get("type") != "pong":
                pass
            latencies.append((time.perf_counter() - began) * 1000)
            counts.append(PONG_EVERY)
    finally:
        await socket.close()


async def _connect_when_trip_known(url: str, timeout: float = 15.0):
    """The trip exists once tracking consumed ``booking.accepted``; until then the upgrade is 404."""
    from websockets.asyncio.client import connect

    deadline = time.monotonic() + timeout
    while True:
        try:
            return await connect(url, open_timeout=10, max_queue=None, ping_interval=None, proxy=None)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def run_websocket(platform: Platform, *, quick: bool) -> Result:
    count, seconds = (2, 1.0) if quick else (16, 8.0)
    stats = Stats()
    trips = await active_trips(platform, count, stats)
    port = platform.service_port("tracking")
    counts: list[int] = []
    latencies: list[float] = []
    monitor = ResourceMonitor(platform.processes(), label=f"ingest-ws-{platform.profile}",
                              seconds=seconds)
    began = time.perf_counter()
    outcomes = await asyncio.gather(*(stream(f"ws://127.0.0.1:{port}/ws/tracking/{b}?token={t}",
                                             seconds, counts, latencies) for b, t in trips),
                                    return_exceptions=True)
    elapsed = time.perf_counter() - began
    failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]
    if len(failures) == len(trips):
        raise BenchError(f"no tracking socket could stream: {failures[0]}")
    figures = {"throughput_per_s": round(sum(counts) / elapsed, 1), "frames": sum(counts),
               "p50_ms": round(percentile(latencies, 50), 2),
               "p95_ms": round(percentile(latencies, 95), 2),
               "p99_ms": round(percentile(latencies, 99), 2),
               "latency_is": f"round trip of a pong after {PONG_EVERY} frames",
               "errors": len(failures) + stats.error_count, "error_samples": failures[:3],
               "sockets": count} | await monitor.stop()
    return Result("ingest", platform.profile, f"WebSocket, {count} runner sockets", figures,
                  [Target("throughput_per_s", 30_000, at_most=False)])


async def run(platform: Platform, *, quick: bool) -> list[Result]:
    return [await run_http(platform, quick=quick), await run_http_batched(platform, quick=quick),
            await run_websocket(platform, quick=quick)]
