"""Start a real `kilat up` (embedded or distributed) for end-to-end and fault tests.

A distributed run never touches a developer's platform: its own ports, PostgreSQL databases,
NATS stream and subject prefix, Redis key prefix and signing keys, all removed afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from kilat.services import SERVICES
from kilat.bench.platform import free_ports
from tests.support.harness import NATS_URL, POSTGRES_URL, REDIS_URL, delete_stream, free_port

T = TypeVar("T")

BASE_ENV = {
    "KILAT_LOG_JSON": "true",
    "KILAT_LOG_LEVEL": "WARNING",
    "KILAT_RATE_LIMIT_PER_MINUTE": "0",
    "KILAT_PASSWORD_HASH_ROUNDS": "4",
    "KILAT_OUTBOX_POLL_SECONDS": "0.2",
    "KILAT_EVENT_RETRY_BASE_SECONDS": "0.2",
    # the payment worker and the notification dispatcher poll; keep journeys short
    "KILAT_PAYMENT_WORKER_POLL_SECONDS": "0.2",
    "KILAT_NOTIFICATION_WORKER_POLL_SECONDS": "0.2",
    # the rides journey sends its 26 fixes 0.1 s apart: a real phone would take minutes
    "KILAT_RIDES_MAX_SPEED_KMH": "100000",
}
START_TIMEOUT_SECONDS = 120.0


def wait_until(probe: Callable[[], T], *, timeout: float = 20.0, interval: float = 0.1,
               message: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``message`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = probe()
        except (httpx.HTTPError, OSError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: not met after {timeout:.0f}s (last: {last!r})")
        time.sleep(interval)


@dataclass
class Platform:
    """A running `kilat up`: its gateway URL and the environment its processes run with."""

    profile: str
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    started_in: float = 0.0
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def kilat(self, *args: str) -> subprocess.CompletedProcess:
        """Run another `kilat` command against this platform's data (e.g. `admin create`)."""
        return subprocess.run([sys.executable, "-m", "kilat", *args], capture_output=True,
                              text=True, env=self.env, timeout=120)

    def children(self) -> dict[str, dict]:
        """The supervisor's children (distributed): name → pid, port, restarts, started_at."""
        return json.loads((self.data_dir / "supervisor.json").read_text())["children"]

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.children()[name]['port']}"

    def log_tail(self, chars: int = 6000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """SIGTERM, as an operator would; every process of the platform must be gone after it."""
        pids = self._child_pids()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        survivors = [pid for pid in pids if _alive(pid)]
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        for cleanup in reversed(self.cleanups):
            cleanup()
        assert not survivors, f"processes left running after SIGTERM: {survivors}"

    def _child_pids(self) -> list[int]:
        try:
            return [child["pid"] for child in self.children().values() if child["pid"]]
        except (OSError, ValueError, KeyError):
            return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_healthy(platform: Platform, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if platform.process.poll() is not None:
            raise RuntimeError(f"kilat exited with {platform.process.returncode}; log:\n"
                               f"{platform.log_tail()}")
        try:
            if httpx.get(f"{platform.url}/health", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{platform.url}/health not healthy after {timeout:.0f}s; log:\n"
                       f"{platform.log_tail()}")


def launch(profile: str, data_dir: Path, env: dict[str, str], args: list[str],
           port: int) -> Platform:
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "kilat.log"
    full_env = os.environ | BASE_ENV | {"KILAT_DATA_DIR": str(data_dir)} | env
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "kilat", "up", "--port", str(port), *args],
        env=full_env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    platform = Platform(profile, f"http://127.0.0.1:{port}", data_dir, full_env, process, log_path)
    try:
        wait_healthy(platform)
    except Exception:
        platform.stop()
        raise
    platform.started_in = time.monotonic() - began
    return platform


def start_embedded(data_dir: Path, env: dict[str, str] | None = None) -> Platform:
    return launch("embedded", data_dir, env or {}, [], free_port())


@dataclass(frozen=True)
class DistributedPlan:
    """Everything one distributed run owns, named uniquely."""

    run_id: str
    postgres_url: str
    nats_url: str
    redis_url: str
    ports: dict[str, int]

    @classmethod
    def new(cls, *, postgres_url: str = POSTGRES_URL, nats_url: str = NATS_URL,
            redis_url: str = REDIS_URL) -> DistributedPlan:
        names = [*SERVICES, "gateway"]
        return cls(f"e2e{uuid.uuid4().hex[:10]}", postgres_url.rstrip("/"), nats_url, redis_url,
                   dict(zip(names, free_ports(len(names)), strict=True)))

    @property
    def database_urls(self) -> dict[str, str]:
        return {name: f"{self.postgres_url}/{self.run_id}_{name}" for name in SERVICES}

    @property
    def stream(self) -> str:
        return self.run_id.upper()

    @property
    def redis_prefix(self) -> str:
        return f"{self.run_id}:"

    def environment(self, keys_dir: Path) -> dict[str, str]:
        return {
            "KILAT_PROFILE": "distributed",
            "KILAT_POSTGRES_URL": self.postgres_url,
            "KILAT_DATABASE_URLS": json.dumps(self.database_urls),
            "KILAT_NATS_URL": self.nats_url,
            "KILAT_NATS_STREAM": self.stream,
            "KILAT_NATS_SUBJECT_PREFIX": self.run_id,
            "KILAT_REDIS_URL": self.redis_url,
            "KILAT_RUNNER_REDIS_KEY_PREFIX": f"{self.redis_prefix}runner:geo",
            "KILAT_IDENTITY_REDIS_KEY_PREFIX": f"{self.redis_prefix}identity",
            "KILAT_SERVICE_PORTS": json.dumps(self.ports),
            "KILAT_JWT_PRIVATE_KEY_PATH": str(keys_dir / "jwt-ed25519.pem"),
            "KILAT_JWT_PUBLIC_KEY_PATH": str(keys_dir / "jwt-ed25519.pub.pem"),
            "KILAT_RAIL_QR_PRIVATE_KEY_PATH": str(keys_dir / "rail-qr-ed25519.pem"),
            "KILAT_RAIL_QR_PUBLIC_KEY_PATH": str(keys_dir / "rail-qr-ed25519.pub.pem"),
        }


def generate_keys(keys_dir: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kilat", "keys", "generate", "--out",
                             str(keys_dir)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def start_distributed(data_dir: Path, plan: DistributedPlan | None = None,
                      env: dict[str, str] | None = None) -> Platform:
    """`kilat up --distributed` on this run's own ports, databases, stream and key prefixes."""
    plan = plan or DistributedPlan.new()
    keys_dir = data_dir / "keys-prod"
    generate_keys(keys_dir)
    cleanup = lambda: asyncio.run(release(plan))  # noqa: E731
    try:
        platform = launch("distributed", data_dir, plan.environment(keys_dir) | (env or {}),
                          ["--distributed"], plan.ports["gateway"])
    except Exception:
        cleanup()
        raise
    platform.cleanups.append(cleanup)
    return platform


async def release(plan: DistributedPlan) -> None:
    """Drop the run's databases, delete its stream and its Redis keys (whatever is reachable)."""
    from kilat.platform.db import drop_database

    # each DROP DATABASE waits for a checkpoint; together they share it
    await asyncio.gather(*(drop_database(url) for url in plan.database_urls.values()),
                         return_exceptions=True)
    await delete_stream(plan.nats_url, plan.stream)
    await _delete_redis_keys(plan)


async def _delete_redis_keys(plan: DistributedPlan) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(plan.redis_url, socket_connect_timeout=2)
    try:
        keys = [key async for key in client.scan_iter(match=f"{plan.redis_prefix}*")]
        if keys:
            await client.delete(*keys)
    except (OSError, aioredis.RedisError):
        pass
    finally:
        await client.aclose()
