"""Runner ping-ingest benchmark: accepted GPS pings per second in one runner-service process.

What it measures: one runner-service process (uvicorn, one worker, the uvloop/httptools stack
``kilat serve`` uses) on a free port, and a separate load process that sends
``POST /api/v1/runners/me/location`` over keep-alive HTTP/1.1 connections as fast as the server
answers. Each request is a real ping of a registered, online runner with its own access token,
moving ten metres north each time, so every one passes the GPS filter and takes the whole hot
path: token check, body validation, filter, index update (in-memory grid or Redis GEO), the
``runner.location_update`` publish on the telemetry fast path (in-process bus or core NATS), and
the batched position flush (every 2 s here). ``accepted_per_s`` counts 200 responses with
``accepted: true``; latency is per request as the load process sees it. With two CPU cores the
load process takes one core, so the figure is what one server core sustains.

Profiles:
  embedded     SQLite, in-memory location index, in-process bus
  distributed  PostgreSQL, Redis GEO index, NATS (a throw-away database, stream and key prefix)

    .venv/bin/python bench/runner_ingest.py --json out.json [--runners 500] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

POSTGRES_URL = os.environ.get("KILAT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("KILAT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
NATS_URL = os.environ.get("KILAT_BENCH_NATS_URL", "nats://127.0.0.1:4222")
ORIGIN = (3.139, 101.6869)
STEP_DEGREES = 10 / 111_195
PATH = "/api/v1/runners/me/location"


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the server process ---------------------------------------------------------------------------


def serve(port: int, stream: str | None) -> None:
    """The runner service alone, configured from the environment the bench prepared."""
    import uvicorn

    from kilat.platform.infra import build_infrastructure
    from kilat.platform.logging import configure_logging
    from kilat.platform.runtime import ServiceRuntime, create_service_app
    from kilat.platform.settings import Settings
    from kilat.services.runner import descriptor

    settings = Settings()
    configure_logging(settings.log_level, json=True)
    infra = build_infrastructure(settings)
    if stream is not None:  # a stream and subjects of its own, so no real consumer is touched
        from kilat.platform.events.nats import NatsBus

        infra.bus = NatsBus(settings.nats_url, stream=stream, subject_prefix=stream.lower())
    app = create_service_app(ServiceRuntime(descriptor, infra), manage_lifecycle=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the load process -----------------------------------------------------------------------------


def ping_request(token: str, lat: float, lng: float) -> bytes:
    body = json.dumps({"latitude": lat, "longitude": lng, "speed_kmh": 36.0,
                       "heading_degrees": 0.0, "accuracy_m": 5.0}).encode()
    head = (f"POST {PATH} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def load(port: int, plan_path: str, connections: int, seconds: float) -> dict:
    """Keep ``connections`` keep-alive connections busy for ``seconds``; one ping per request."""
    plan = json.loads(Path(plan_path).read_text())
    counts = {"accepted": 0, "ignored": 0, "errors": 0}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def connection(slot: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        mine = plan[slot::connections]
        steps = [0] * len(mine)
        i = 0
        try:
            while time.perf_counter() < deadline and mine:
                token, lat, lng = mine[i]
                steps[i] += 1
                writer.write(ping_request(token, lat + steps[i] * STEP_DEGREES, lng))
                sent = time.perf_counter()
                status, body = await read_response(reader)
                latencies.append((time.perf_counter() - sent) * 1000)
                if status != 200:
                    counts["errors"] += 1
                elif b'"accepted":true' in body:
                    counts["accepted"] += 1
                else:
                    counts["ignored"] += 1
                i = (i + 1) % len(mine)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(slot) for slot in range(connections)))
    elapsed = time.perf_counter() - started
    return {"accepted_per_s": round(counts["accepted"] / elapsed, 1),
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 50), 3), "p95_ms": round(percentile(latencies, 95), 3),
            "p99_ms": round(percentile(latencies, 99), 3), **counts}


# --- the orchestrating process --------------------------------------------------------------------


def server_env(profile: str, data_dir: Path, run_id: str) -> tuple[dict, dict]:
    """Environment for the server, and what to clean up afterwards."""
    env = os.environ | {"KILAT_DATA_DIR": str(data_dir), "KILAT_LOG_LEVEL": "WARNING",
                        "KILAT_RUNNER_LOCATION_FLUSH_SECONDS": "2",
                        "PYTHONPATH": f"{SRC}:{os.environ.get('PYTHONPATH', '')}"}
    if profile == "embedded":
        return env | {"KILAT_PROFILE": "embedded"}, {}
    database = f"{POSTGRES_URL}/kilat_bench_ingest_{run_id}"
    cleanup = {"database": database, "prefix": f"kilat:bench:ingest:{run_id}",
               "stream": f"KILAT_BENCH_{run_id.upper()}"}
    return env | {
        "KILAT_PROFILE": "distributed",
        "KILAT_JWT_PRIVATE_KEY_PATH": str(data_dir / "keys" / "jwt-ed25519.pem"),
        "KILAT_JWT_PUBLIC_KEY_PATH": str(data_dir / "keys" / "jwt-ed25519.pub.pem"),
        "KILAT_DATABASE_URLS": json.dumps({"runner": database}),
        "KILAT_REDIS_URL": REDIS_URL, "KILAT_NATS_URL": NATS_URL,
        "KILAT_RUNNER_REDIS_KEY_PREFIX": cleanup["prefix"],
    }, cleanup


def issuer_for(data_dir: Path):
    from kilat.platform.auth import TokenIssuer, generate_keypair, load_private_key

    private, public = data_dir / "keys" / "jwt-ed25519.pem", data_dir / "keys" / "jwt-ed25519.pub.pem"
    generate_keypair(private, public)
    return TokenIssuer(load_private_key(private), issuer="kilat", access_ttl=3600, refresh_ttl=3600)


async def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the runner service exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/health", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{url} did not become healthy")


async def onboard(url: str, issuer, count: int, seed: int) -> list[list]:
    """Register ``count`` runners and bring them online; returns (token, lat, lng) per runner."""
    import httpx

    rng = random.Random(seed)
    plan = []
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        gate = asyncio.Semaphore(32)

        async def one(i: int) -> None:
            token = issuer.access_token(uuid.uuid4(), f"bench{i}@example.com", "runner")
            headers = {"Authorization": f"Bearer {token}"}
            lat = ORIGIN[0] + rng.uniform(-0.1, 0.1)
            lng = ORIGIN[1] + rng.uniform(-0.1, 0.1)
            async with gate:
                registered = await client.post("/api/v1/runners", headers=headers, json={
                    "vehicle_type": "motorcycle", "vehicle_plate": f"BK{i}"})
                online = await client.post("/api/v1/runners/me/online", headers=headers,
                                           json={"latitude": lat, "longitude": lng})
            if (registered.status_code, online.status_code) != (201, 200):
                raise RuntimeError(f"onboarding failed: {registered.text} {online.text}")
            plan.append([token, lat, lng])

        await asyncio.gather(*(one(i) for i in range(count)))
    return plan


async def cleanup_distributed(cleanup: dict) -> None:
    import nats
    import redis.asyncio as aioredis

    from kilat.platform.db import drop_database

    redis = aioredis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{cleanup['prefix']}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
    connection = await nats.connect(NATS_URL)
    try:
        await connection.jetstream().delete_stream(cleanup["stream"])
    except Exception:
        pass
    finally:
        await connection.close()
    await drop_database(cleanup["database"])


async def run_profile(profile: str, args) -> dict:
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        issuer = issuer_for(data_dir)
        env, cleanup = server_env(profile, data_dir, run_id)
        port = free_port()
        command = [sys.executable, __file__, "--serve", str(port)]
        if cleanup:
            command += ["--stream", cleanup["stream"]]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                  stderr=open(data_dir / "server.log", "wb"))
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_healthy(url, server)
            plan_path = data_dir / "plan.json"
            plan_path.write_text(json.dumps(await onboard(url, issuer, args.runners, args.seed)))
            loader = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--load", str(port), str(plan_path),
                str(args.connections), str(args.seconds), stdout=asyncio.subprocess.PIPE,
                env=env)
            out, _ = await loader.communicate()
            figures = json.loads(out.decode().strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(20)
            if cleanup:
                await cleanup_distributed(cleanup)
    return {"scenario": "ingest", "profile": profile, "runners": args.runners,
            "connections": args.connections, "seconds": args.seconds, **figures,
            "load_average_1m": round(os.getloadavg()[0], 2)}


async def main(args) -> list[dict]:
    results = []
    for profile in args.profiles:
        try:
            line = await run_profile(profile, args)
        except (OSError, ConnectionError, RuntimeError, TimeoutError) as exc:
            line = {"scenario": "ingest", "profile": profile, "errors": 1,
                    "skipped": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(line), flush=True)
        results.append(line)
    return results


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--runners", type=int, default=500)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--profiles", nargs="+", default=["embedded", "distributed"],
                        choices=["embedded", "distributed"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stream", help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=4, help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    import uvloop

    arguments = parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.stream)
    elif arguments.load:
        port, plan_file, connections, seconds = arguments.load
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            print(json.dumps(runner.run(load(int(port), plan_file, int(connections), float(seconds)))))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            output = runner.run(main(arguments))
        if arguments.json:
            arguments.json.write_text(json.dumps(output, indent=2) + "\n")
