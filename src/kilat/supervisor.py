"""``kilat up --distributed``: every service in its own process, restarted when it dies.

The supervisor migrates every service's database, then runs ``python -m kilat serve <name>`` per
service plus the gateway. A child that exits, or stops answering ``/health`` after it once did, is
(re)started with exponential backoff. SIGINT/SIGTERM stops every child (SIGTERM, then SIGKILL after
a grace period). The children and their pids are written to ``<data dir>/supervisor.json`` so an
operator (or a test) can find them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import structlog
from rich.console import Console

from kilat.platform.settings import Settings

log = structlog.get_logger(__name__)
console = Console()

RESTART_BACKOFF_SECONDS = 0.5
RESTART_BACKOFF_MAX_SECONDS = 10.0
STABLE_AFTER_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0
HEALTH_INTERVAL_SECONDS = 5.0
HEALTH_TIMEOUT_SECONDS = 5.0
HEALTH_FAILURES_BEFORE_KILL = 3
STARTUP_TIMEOUT_SECONDS = 120.0
STATE_FILE = "supervisor.json"
GATEWAY = "gateway"
_PR_SET_PDEATHSIG = 1


def next_backoff(backoff: float, ran_for: float) -> tuple[float, float]:
    """(delay before this restart, delay before the next): a child that ran stably starts over."""
    if ran_for >= STABLE_AFTER_SECONDS:
        backoff = RESTART_BACKOFF_SECONDS
    return backoff, min(backoff * 2, RESTART_BACKOFF_MAX_SECONDS)


def loopback(host: str) -> str:
    """The address a sibling process uses to reach a server bound to ``host``."""
    if host in ("", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def platform_ports(settings: Settings, gateway_port: int) -> dict[str, int]:
    """Every port the distributed platform listens on: one per service, and the gateway's."""
    from kilat.services import SERVICES

    return {name: settings.service_port(name) for name in SERVICES} | {GATEWAY: gateway_port}


def port_in_use(host: str, port: int) -> OSError | None:
    """Why a server could not listen on ``host:port`` now (as uvicorn binds), or None."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        return exc
    return None


def child_environment(settings: Settings, host: str, ports: dict[str, int]) -> dict[str, str]:
    """The children's environment: the distributed profile, and every service's URL on this host
    unless the operator configured one (``KILAT_SERVICE_URLS``)."""
    urls = {name: settings.service_urls.get(name) or f"http://{loopback(host)}:{port}"
            for name, port in ports.items() if name != GATEWAY}
    return os.environ | {
        "KILAT_PROFILE": "distributed",
        "KILAT_SERVICE_URLS": json.dumps(urls),
        "KILAT_SERVICE_PORTS": json.dumps(ports),
    }


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM if the supervisor dies (even by SIGKILL), so no
    service outlives it. Linux only; elsewhere a no-op."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    """One supervised ``kilat serve`` process."""

    name: str
    host: str
    port: int
    env: dict[str, str]
    on_change: Callable[[], None] = lambda: None
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float | None = None
    stopping: bool = field(default=False, repr=False)

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-m", "kilat", "serve", self.name, "--host", self.host,
                "--port", str(self.port)]

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.returncode is None else None

    async def run(self) -> None:
        backoff = RESTART_BACKOFF_SECONDS
        while not self.stopping:
            began = time.monotonic()
            code = await self._run_once()
            if self.stopping:
                return
            delay, backoff = next_backoff(backoff, time.monotonic() - began)
            self.restarts += 1
            console.print(f"[yellow]{self.name} exited with {code}; "
                          f"restarting in {delay:.1f}s (restart {self.restarts})[/yellow]")
            log.warning("service exited", service=self.name, code=code, restart_in=delay)
            await asyncio.sleep(delay)

    async def _run_once(self) -> int:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, env=self.env, start_new_session=True, preexec_fn=_die_with_parent)
        if self.stopping:  # stop() came while it was being spawned
            self.process.terminate()
        self.started_at = time.time()
        self.on_change()
        watchdog = asyncio.create_task(self._watch(self.process))
        try:
            return await self.process.wait()
        finally:
            watchdog.cancel()
            await asyncio.gather(watchdog, return_exceptions=True)
            self.on_change()

    @property
    def liveness_url(self) -> str:
        # the gateway's /health probes every service: a service being down must not get the
        # gateway killed, so the gateway is asked for its own /metrics
        path = "/metrics" if self.name == GATEWAY else "/health"
        return f"http://{loopback(self.host)}:{self.port}{path}"

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        """Kill a child that hangs: it never answered within the startup timeout, or it stopped
        answering (any HTTP status counts as an answer) several times in a row."""
        began, answered_once, failures = time.monotonic(), False, 0
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_SECONDS, trust_env=False) as client:
            while process.returncode is None:
                await asyncio.sleep(HEALTH_INTERVAL_SECONDS if answered_once else 0.5)
                if await _answers(client, self.liveness_url):
                    answered_once, failures = True, 0
                    continue
                failures += answered_once
                stuck = not answered_once and time.monotonic() - began > STARTUP_TIMEOUT_SECONDS
                if failures >= HEALTH_FAILURES_BEFORE_KILL or stuck:
                    log.error("service unresponsive; killing it", service=self.name,
                              pid=process.pid)
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
                    return

    async def stop(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        self.stopping = True
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout=grace_seconds)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    def describe(self) -> dict:
        return {"pid": self.pid, "port": self.port, "restarts": self.restarts,
                "started_at": self.started_at}


async def _answers(client: httpx.AsyncClient, url: str) -> bool:
    try:
        await client.get(url)
    except httpx.HTTPError:
        return False
    return True


async def _healthy(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


class StateFile:
    """``supervisor.json``: the supervisor's pid, the gateway URL and each child's pid and port."""

    def __init__(self, path: Path, gateway_url: str) -> None:
        self.path = path
        self.gateway_url = gateway_url
        self.children: list[Child] = []

    def write(self) -> None:
        state = {"pid": os.getpid(), "gateway_url": self.gateway_url,
                 "children": {child.name: child.describe() for child in self.children}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2))
        temporary.replace(self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


async def run_distributed(settings: Settings, *, host: str, gateway_port: int, demo: bool) -> int:
    """Run the distributed platform until SIGINT/SIGTERM; returns the process exit code."""
    from kilat.services import SERVICES

    if not await _prepare(settings, SERVICES, demo=demo):
        return 1
    ports = platform_ports(settings, gateway_port)
    env = child_environment(settings, host, ports)
    url = f"http://{loopback(host)}:{gateway_port}"
    state = StateFile(settings.data_dir / STATE_FILE, url)
    children = [Child(name, host, port, env, on_change=state.write) for name, port in ports.items()]
    state.children = children
    stop = _stop_on_signals(children)
    tasks = [asyncio.create_task(child.run(), name=f"supervise:{child.name}") for child in children]
    try:
        if await _wait_healthy(url, stop):
            console.print(f"[bold green]Kilat is up (distributed, {len(SERVICES)} services)"
                          f"[/bold green] at [link]{url}[/link]  (Ctrl-C stops)")
        await stop.wait()
    finally:
        console.print("stopping ...")
        await asyncio.gather(*(child.stop() for child in children))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        state.remove()
    return 0


async def _prepare(settings: Settings, services: list[str], *, demo: bool) -> bool:
    """Check the servers, then create and migrate every database; False (said why) if not."""
    from kilat.app import migrate_services, seed_demo_data

    for label, setting, url in (("Redis", "KILAT_REDIS_URL", settings.redis_url),
                                ("NATS", "KILAT_NATS_URL", settings.nats_url)):
        if not await _reachable(url):
            console.print(f"[red]cannot reach {label} at {_redact(url)}[/red] ({setting})")
            return False
    try:
        for name, _url in await migrate_services(settings, services):
            console.print(f"[green]migrated[/green] {name}")
        if demo:
            await seed_demo_data(settings, services)
    except (OSError, asyncio.TimeoutError) as exc:
        console.print(f"[red]cannot prepare the databases:[/red] {exc}\n"
                      f"Is PostgreSQL running at {_redact(settings.postgres_url)}? "
                      "(KILAT_POSTGRES_URL)")
        return False
    return True


DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "nats": 4222, "tls": 4222}


async def _reachable(urls: str, timeout: float = 3.0) -> bool:
    """Whether one of the (comma-separated) servers accepts a TCP connection."""
    for url in urls.split(","):
        parts = urlsplit(url.strip())
        if not parts.hostname:  # a unix socket: left to the client
            return True
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(
                parts.hostname, parts.port or DEFAULT_PORTS.get(parts.scheme)), timeout)
        except (OSError, asyncio.TimeoutError):
            continue
        writer.close()
        return True
    return False


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def _stop_on_signals(children: list[Child]) -> asyncio.Event:
    """An event set by SIGINT/SIGTERM; the children are marked stopping at once, so one that
    exits meanwhile is not restarted."""
    stop = asyncio.Event()

    def request_stop() -> None:
        for child in children:
            child.stopping = True
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, request_stop)
    return stop


async def _wait_healthy(url: str, stop: asyncio.Event, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_SECONDS, trust_env=False) as client:
        while time.monotonic() < deadline and not stop.is_set():
            if await _healthy(client, f"{url}/health"):
                return True
            await asyncio.sleep(0.3)
    if not stop.is_set():
        console.print(f"[yellow]{url}/health is not healthy yet; the supervisor keeps trying"
                      "[/yellow]")
    return False
