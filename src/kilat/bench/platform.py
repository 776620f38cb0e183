"""Start a throw-away platform for a benchmark and watch its processes' CPU and memory.

Embedded: ``python -m kilat up`` on a free port with a temporary data dir. Distributed: the
supervisor (``kilat up --distributed``) on free ports with its own PostgreSQL databases, NATS
stream and subject prefix, Redis key prefix and signing keys, all removed afterwards. Only
127.0.0.1 is used.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from kilat.platform.auth import TokenIssuer, generate_keypair, load_private_key
from kilat.services import SERVICES

POSTGRES_URL = os.environ.get("KILAT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("KILAT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
NATS_URL = os.environ.get("KILAT_BENCH_NATS_URL", "nats://127.0.0.1:4222")

BASE_ENV = {
    "KILAT_LOG_JSON": "true",
    "KILAT_LOG_LEVEL": "WARNING",
    "KILAT_RATE_LIMIT_PER_MINUTE": "0",
    "KILAT_PASSWORD_HASH_ROUNDS": "4",
    "KILAT_TRACKING_SOCKET_LOCATIONS_PER_SECOND": "1000000",
    "KILAT_TRACKING_SOCKET_LOCATION_BURST": "1000000",
    "KILAT_TRACKING_SOCKET_QUEUE_SIZE": "100000",
}
START_TIMEOUT_SECONDS = 120.0


class BenchError(RuntimeError):
    """A benchmark could not run (a server missing, a platform that did not start)."""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def reachable(url: str, default_port: int) -> bool:
    parsed = httpx.URL(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or default_port), 1):
            return True
    except OSError:
        return False


@dataclass
class Platform:
    profile: str
    port: int
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    started_in: float = 0.0
    startup_cpu_seconds: float = 0.0
    database_urls: dict[str, str] = field(default_factory=dict)
    run_id: str = ""
    _tmp: tempfile.TemporaryDirectory | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> list[psutil.Process]:
        """The platform's process tree (the supervisor and every service in distributed)."""
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def service_port(self, name: str) -> int:
        """Where one service answers directly (embedded: everything is behind the gateway)."""
        if self.profile == "embedded":
            return self.port
        return json.loads(self.env["KILAT_SERVICE_PORTS"])[name]

    def issuer(self) -> TokenIssuer:
        """Mints access tokens with the platform's own key, for load that needs many users."""
        key = Path(self.env.get("KILAT_JWT_PRIVATE_KEY_PATH") or self.data_dir / "keys" / "jwt-ed25519.pem")
        return TokenIssuer(load_private_key(key), issuer="kilat", access_ttl=3600, refresh_ttl=3600)

    def log_tail(self, chars: int = 3000) -> str:
        path = self.data_dir / "kilat.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    async def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            for _ in range(300):
                if self.process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                self.process.kill()
                self.process.wait()
        if self.profile == "distributed":
            await release(self)
        if self._tmp is not None:
            self._tmp.cleanup()


async def wait_healthy(platform: Platform, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=3) as client:
        while time.monotonic() < deadline:
            if platform.process.poll() is not None:
                raise BenchError(f"kilat exited with {platform.process.returncode}:\n{platform.log_tail()}")
            try:
                if (await client.get(f"{platform.url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise BenchError(f"{platform.url}/health not healthy after {timeout:.0f}s:\n{platform.log_tail()}")


async def launch(profile: str, extra_env: dict[str, str] | None = None,
                 data_dir: Path | None = None) -> Platform:
    """Start a platform and return once its gateway reports healthy."""
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix=f"kilat-bench-{profile}-")
        data_dir = Path(tmp.name)
    env = os.environ | BASE_ENV | {"KILAT_DATA_DIR": str(data_dir)}
    args, run_id, database_urls = [], "", {}
    if profile == "distributed":
        check_servers()
        run_id = f"bench{uuid.uuid4().hex[:8]}"
        database_urls = {name: f"{POSTGRES_URL}/{run_id}_{name}" for name in SERVICES}
        env |= distributed_env(run_id, database_urls, data_dir)
        args = ["--distributed"]
    env |= extra_env or {}
    port = json.loads(env["KILAT_SERVICE_PORTS"])["gateway"] if args else free_ports(1)[0]
    began = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "kilat", "up", "--port", str(port), *args],
                               env=env, stdout=(data_dir / "kilat.log").open("wb"),
                               stderr=subprocess.STDOUT)
    platform = Platform(profile, port, data_dir, env, process, database_urls=database_urls,
                        run_id=run_id, _tmp=tmp)
    try:
        await wait_healthy(platform)
    except BaseException:
        await platform.stop()
        raise
    platform.started_in = time.monotonic() - began
    platform.startup_cpu_seconds = cpu_seconds(platform.processes())
    return platform


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def check_servers() -> None:
    missing = [name for name, url, port in (("PostgreSQL", POSTGRES_URL, 5432), ("Redis", REDIS_URL, 6379),
                                            ("NATS", NATS_URL, 4222)) if not reachable(url, port)]
    if missing:
        raise BenchError(f"the distributed profile needs {', '.join(missing)} on this machine")


def distributed_env(run_id: str, database_urls: dict[str, str], data_dir: Path) -> dict[str, str]:
    keys = data_dir / "keys-prod"
    keys.mkdir(parents=True, exist_ok=True)
    generate_keypair(keys / "jwt-ed25519.pem", keys / "jwt-ed25519.pub.pem")
    generate_keypair(keys / "rail-qr-ed25519.pem", keys / "rail-qr-ed25519.pub.pem")
    names = [*SERVICES, "gateway"]
    return {
        "KILAT_PROFILE": "distributed",
        "KILAT_POSTGRES_URL": POSTGRES_URL,
        "KILAT_DATABASE_URLS": json.dumps(database_urls),
        "KILAT_NATS_URL": NATS_URL,
        "KILAT_NATS_STREAM": run_id.upper(),
        "KILAT_NATS_SUBJECT_PREFIX": run_id,
        "KILAT_REDIS_URL": REDIS_URL,
        "KILAT_RUNNER_REDIS_KEY_PREFIX": f"{run_id}:runner:geo",
        "KILAT_SERVICE_PORTS": json.dumps(dict(zip(names, free_ports(len(names)), strict=True))),
        "KILAT_JWT_PRIVATE_KEY_PATH": str(keys / "jwt-ed25519.pem"),
        "KILAT_JWT_PUBLIC_KEY_PATH": str(keys / "jwt-ed25519.pub.pem"),
        "KILAT_RAIL_QR_PRIVATE_KEY_PATH": str(keys / "rail-qr-ed25519.pem"),
        "KILAT_RAIL_QR_PUBLIC_KEY_PATH": str(keys / "rail-qr-ed25519.pub.pem"),
    }


async def release(platform: Platform) -> None:
    """Drop the run's databases, its NATS stream and its Redis keys."""
    from kilat.platform.db import drop_database

    for url in platform.database_urls.values():
        try:
            await drop_database(url)
        except Exception:  # noqa: BLE001 - best effort cleanup of a throw-away database
            pass
    await _delete_stream(platform.run_id.upper())
    await _delete_redis_keys(f"{platform.run_id}:*")


async def _delete_stream(stream: str) -> None:
    import nats

    try:
        client = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception:  # noqa: BLE001
        return
    try:
        await client.jetstream().delete_stream(stream)
    except Exception:  # noqa: BLE001
        pass
    finally:
        await client.close()


async def _delete_redis_keys(pattern: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start:start + 1000])
    except Exception:  # noqa: BLE001
        pass
    finally:
        await client.aclose()


class ResourceMonitor:
    """CPU (100 = one core) and peak resident memory of a process tree over a window.

    Sampled every 0.25 s, so a process that exits inside the window still counts its CPU."""

    def __init__(self, processes: list[psutil.Process], *, label: str = "",
                 seconds: float = 0.0) -> None:
        self.processes = processes
        from kilat.bench.profiling import start_profiles

        self.profiles = start_profiles(processes, label, seconds) if label else []
        self.peak_rss = 0
        self._cpu_before = self._cpu()
        self._cpu_last = dict(self._cpu_before)
        self._began = time.monotonic()
        self._task = asyncio.ensure_future(self._sample())

    def _cpu(self) -> dict[int, float]:
        used = {}
        for process in self.processes:
            try:
                times = process.cpu_times()
                used[process.pid] = times.user + times.system
            except psutil.Error:
                pass
        return used

    def rss(self) -> int:
        total = 0
        for process in self.processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def watch(self, process: psutil.Process) -> None:
        """Count a process that started inside the window from its start."""
        if all(p.pid != process.pid for p in self.processes):
            self.processes.append(process)
            self._cpu_before[process.pid] = 0.0

    def _update(self) -> None:
        self.peak_rss = max(self.peak_rss, self.rss())
        self._cpu_last.update(self._cpu())

    async def _sample(self) -> None:
        while True:
            self._update()
            await asyncio.sleep(0.25)

    async def stop(self) -> dict:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._update()
        seconds = time.monotonic() - self._began
        used = sum(self._cpu_last.get(pid, before) - before
                   for pid, before in self._cpu_before.items())
        from kilat.bench.profiling import stop_profiles

        await asyncio.to_thread(stop_profiles, self.profiles)
        return {"platform_cpu_percent": round(100 * used / seconds, 1) if seconds else 0.0,
                "platform_rss_mb": round(self.peak_rss / 2**20, 1),
                "platform_processes": len(self.processes)}
