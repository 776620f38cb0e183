"""Tracking fan-out benchmark: ping-to-socket latency and pings ingested per second.

One tracking process (embedded profile: in-process bus, SQLite unless ``--database-url``) serves
real WebSockets on uvicorn; a second process holds one viewer socket per live trip. Pings enter
exactly as the runner service sends them (``bus.publish_fast("runner.location_update", ...)``),
spread round-robin over the trips. Latency is measured from the ping's timestamp (taken right
before it is published) to the viewer process parsing the ``location_update`` frame.

Phases per scenario:
  latency     pings at a steady rate (one per trip every ``--interval`` seconds) for ``--seconds``
  throughput  pings as fast as one process takes them, until the batch writer has stored them all

    .venv/bin/python bench/tracking_fanout.py --json out.json [--trips 1000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

PINGS = "runner.location_update"
ORIGIN = (3.139, 101.6869)
STEP_DEGREES = 10 / 111_195  # ten metres north per ping


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the viewer process ---------------------------------------------------------------------------


async def viewers(url: str, plan_path: str, deflate: bool) -> None:
    """Open one socket per trip, then answer ``report <expected>`` and ``quit`` on stdin."""
    from websockets.asyncio.client import connect

    plan = json.loads(Path(plan_path).read_text())
    latencies: list[float] = []
    received = 0
    errors = 0

    async def watch(booking_id: str, token: str, ready: asyncio.Semaphore) -> None:
        nonlocal received, errors
        try:
            async with connect(f"{url}/ws/tracking/{booking_id}?token={token}", open_timeout=120,
                               max_queue=None, ping_interval=None, proxy=None,
                               compression="deflate" if deflate else None) as ws:
                ready.release()
                async for text in ws:
                    frame = json.loads(text)
                    if frame.get("type") != "location_update":
                        continue
                    sent = datetime.fromisoformat(frame["timestamp"])
                    latencies.append((datetime.now(UTC) - sent).total_seconds() * 1000)
                    received += 1
        except Exception:
            errors += 1
            ready.release()

    gate = asyncio.Semaphore(100)
    tasks = []
    for booking_id, token in plan:
        await gate.acquire()
        tasks.append(asyncio.create_task(watch(booking_id, token, gate)))
    for _ in range(100):
        await gate.acquire()
    print(f"ready {len(tasks) - errors}", flush=True)

    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "quit":
            break
        if line[0] == "reset":
            latencies.clear()
            received = 0
            continue
        expected = int(line[1])
        deadline = time.monotonic() + 20
        while received < expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        print(json.dumps({"received": received, "errors": errors,
                          "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
                          "p99": percentile(latencies, 99), "max": max(latencies, default=0),
                          "mean": statistics.fmean(latencies) if latencies else 0}), flush=True)
        latencies.clear()
        received = 0
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- the tracking process -------------------------------------------------------------------------


async def seed_trips(runtime, count: int) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """``count`` accepted bookings (booking, owner, runner), as ``booking.accepted`` leaves them."""
    from sqlalchemy import insert

    from kilat.services.tracking.models import Trip

    now = datetime.now(UTC)
    trips = [(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
    rows = [{"id": uuid.uuid4(), "booking_id": b, "booking_number": None, "owner_id": o,
             "runner_id": r, "status": "active", "booking_status": "accepted", "accepted_at": now,
             "started_at": now, "version": 1, "created_at": now, "updated_at": now}
            for b, o, r in trips]
    async with runtime.database.session() as session:
        for start in range(0, count, 2000):
            await session.execute(insert(Trip.__table__), rows[start:start + 2000])
    return trips


class Pinger:
    """Pings spread round-robin over the trips, each trip moving north ten metres a ping."""

    def __init__(self, bus, trips) -> None:
        self.bus = bus
        self.trips = trips
        self.steps = [0] * len(trips)
        self.sent = 0

    async def ping(self) -> None:
        index = self.sent % len(self.trips)
        booking_id, _owner, runner_id = self.trips[index]
        self.steps[index] += 1
        await self.bus.publish_fast(PINGS, {
            "runner_id": str(runner_id), "runner_profile_id": None, "booking_id": str(booking_id),
            "latitude": ORIGIN[0] + self.steps[index] * STEP_DEGREES, "longitude": ORIGIN[1],
            "speed_kmh": 30.0, "heading_degrees": 0.0, "accuracy_m": 5.0,
            "timestamp": datetime.now(UTC).isoformat(),
        })
        self.sent += 1


async def steady(pinger: Pinger, rate: float, seconds: float) -> int:
    """Pings at ``rate`` for ``seconds``; a process that cannot keep up sends fewer, not later."""
    loop = asyncio.get_running_loop()
    start, target = loop.time(), int(rate * seconds)
    while pinger.sent < target and loop.time() - start < seconds:
        due = min(target, int((loop.time() - start) * rate) + 1)
        while pinger.sent < due:
            await pinger.ping()
            if pinger.sent % 20 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(0.002)
    return pinger.sent


async def flat_out(pinger: Pinger, count: int, live) -> float:
    """Seconds to take ``count`` pings and store them all (queued pings are not stored yet)."""
    started = time.perf_counter()
    first = pinger.sent
    while pinger.sent - first < count:
        await pinger.ping()
        if pinger.sent % 50 == 0:
            await asyncio.sleep(0)
    while live.pings_pending or live.writer.pending:
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


class Viewers:
    def __init__(self, url: str, plan_path: Path, deflate: bool, gc_threshold: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--viewers", url, str(plan_path),
             "deflate" if deflate else "plain", str(gc_threshold)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    async def line(self) -> str:
        return await asyncio.to_thread(self.process.stdout.readline)

    def reset(self) -> None:
        self.process.stdin.write("reset\n")
        self.process.stdin.flush()

    async def report(self, expected: int) -> dict:
        self.process.stdin.write(f"report {expected}\n")
        self.process.stdin.flush()
        return json.loads(await self.line())

    def close(self) -> None:
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
            self.process.wait()


async def scenario(trips: int, args, workdir: Path) -> dict:
    import uvicorn

    from kilat.platform.infra import build_infrastructure
    from kilat.platform.runtime import ServiceRuntime, create_service_app
    from kilat.platform.settings import Settings
    from kilat.services.tracking import descriptor

    settings = Settings(data_dir=workdir / f"trips-{trips}", log_json=False, log_level="WARNING",
                        rate_limit_per_minute=0)
    infra = build_infrastructure(settings)
    await infra.bus.start()
    url = args.database_url and f"{args.database_url.rstrip('/')}/kilat_bench_{uuid.uuid4().hex[:8]}"
    runtime = ServiceRuntime(descriptor, infra, database_url=url)
    await runtime.start()
    live = runtime.context.live
    seeded = await seed_trips(runtime, trips)
    await live.trips.preload()  # as a restarted instance does: live trips are known before pings
    progress(f"{trips} trips seeded")
    plan = workdir / f"plan-{trips}.json"
    plan.write_text(json.dumps([(str(b), infra.issuer.access_token(o, "bench@example.com", "owner"))
                                for b, o, _r in seeded]))

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_service_app(runtime), lifespan="off",
                                           log_level="warning", access_log=False, backlog=4096,
                                           ws_ping_interval=54, ws_ping_timeout=60,
                                           ws_per_message_deflate=args.deflate,
                                           timeout_graceful_shutdown=2))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)

    pinger = Pinger(infra.bus, seeded)
    for _ in seeded:  # the trips are live before anyone watches: each has a first position
        await pinger.ping()
    while live.pings_pending:  # handled before the viewers connect, so each gets a position
        await asyncio.sleep(0.01)
    warm_up = pinger.sent
    progress("first positions sent")
    viewers_process = Viewers(f"ws://127.0.0.1:{port}", plan, args.deflate, args.gc_threshold)
    connect_started = time.perf_counter()
    ready = (await viewers_process.line()).split()
    connected = int(ready[1]) if ready and ready[0] == "ready" else 0
    connect_seconds = time.perf_counter() - connect_started
    progress(f"{connected} viewers connected")
    try:
        await asyncio.sleep(0.5)  # the positions sent on connect are not part of the measurement
        viewers_process.reset()
        pinger.sent = 0
        rate = trips / args.interval
        steady_pings = await steady(pinger, rate, args.seconds)
        latency = await viewers_process.report(steady_pings)
        progress(f"steady phase done: {latency}")
        burst = max(args.burst, trips)
        burst_seconds = await flat_out(pinger, burst, live)
        progress(f"burst taken in {burst_seconds:.1f}s")
        delivered = await viewers_process.report(burst)
        progress(f"burst delivered: {delivered}")
    finally:
        viewers_process.close()
        server.should_exit = True
        await serving
        sock.close()
        await runtime.stop()
        await infra.bus.close()
        if url:
            from kilat.platform.db import drop_database
            await drop_database(url)

    outcomes = dict(live.outcomes)
    stats = live.writer.stats
    breakdown = {
        "viewers_not_connected": trips - connected,
        "frames_missing": (steady_pings - latency["received"]) + (burst - delivered["received"]),
        "pings_refused": warm_up + pinger.sent - outcomes.get("accepted", 0),
        "waypoints_lost": stats.dropped + stats.failures,
    }
    errors = sum(breakdown.values())
    return {
        "scenario": "fanout",
        "trips": trips,
        "p50_ms": round(latency["p50"], 2),
        "p95_ms": round(latency["p95"], 2),
        "p99_ms": round(latency["p99"], 2),
        "throughput_per_s": round(burst / burst_seconds),
        "errors": errors,
        "error_breakdown": breakdown,
        "database": runtime.database.dialect,
        "bus": "in-process",
        "gc_threshold": args.gc_threshold,
        "deflate": args.deflate,
        "steady_rate_per_s": round(rate),
        "steady_pings": steady_pings,
        "burst_pings": burst,
        "burst_p50_ms": round(delivered["p50"], 2),
        "burst_p99_ms": round(delivered["p99"], 2),
        "connect_seconds": round(connect_seconds, 1),
        "waypoints_stored": stats.written,
        "waypoint_batches": stats.transactions,
        "pings_per_batch": round(stats.written / max(stats.transactions, 1)),
    }


async def run(args) -> list[dict]:
    from kilat.platform.logging import configure_logging

    configure_logging("WARNING", json=False)
    results = []
    with tempfile.TemporaryDirectory(prefix="kilat-bench-") as tmp:
        for trips in args.trips:
            result = await scenario(trips, args, Path(tmp))
            print(json.dumps(result), flush=True)
            results.append(result)
    return results


def tune_gc(threshold: int) -> None:
    """Tens of thousands of long-lived socket objects make CPython's default collector
    (a full pass every few hundred allocations) the main cost; long-running servers raise it."""
    if threshold > 0:
        gc.set_threshold(threshold, 20, 20)


def main() -> None:
    raise_fd_limit()
    if len(sys.argv) > 1 and sys.argv[1] == "--viewers":
        tune_gc(int(sys.argv[5]))
        asyncio.run(viewers(sys.argv[2], sys.argv[3], sys.argv[4] == "deflate"))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here as a JSON list")
    parser.add_argument("--trips", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the steady phase")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between two pings of one trip in the steady phase")
    parser.add_argument("--burst", type=int, default=10000,
                        help="pings in the throughput phase (at least one per trip)")
    parser.add_argument("--database-url", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--deflate", action="store_true",
                        help="permessage-deflate on the sockets (uvicorn's default; costs ~40 KB "
                             "and CPU per socket for ~250-byte frames)")
    parser.add_argument("--gc-threshold", type=int, default=50_000,
                        help="CPython gen-0 collection threshold in both processes "
                             "(0 keeps the interpreter default of 700)")
    args = parser.parse_args()
    tune_gc(args.gc_threshold)
    results = asyncio.run(run(args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
