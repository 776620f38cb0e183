"""NatsBus builders and a private nats-server the restart test may kill."""

import shutil
import socket
import subprocess
import time
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

from kilat.platform.events.nats import NatsBus
from kilat.platform.runtime import Infrastructure
from tests.support.harness import NATS_URL, free_port, running_service
from tests.support.notes import descriptor

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
FAST = {"max_attempts": 3, "retry_base_seconds": 0.05, "fetch_timeout": 1.0,
        "request_timeout": 2.0, "reconnect_wait": 0.1}


def make_bus(namespace, url: str = NATS_URL, **options) -> NatsBus:
    return NatsBus(url, stream=namespace.stream, subject_prefix=namespace.prefix, **FAST | options)


@asynccontextmanager
async def started(bus: NatsBus):
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


@asynccontextmanager
async def notes_on_nats(infra, bus: NatsBus, database_url: str | None = None):
    """The notes kernel-test service (the runtime mounts its dead-letter admin routes) on ``bus``."""
    distributed = Infrastructure(settings=infra.settings, bus=bus, verifier=infra.verifier,
                                 issuer=infra.issuer)
    async with running_service(descriptor, distributed, database_url=database_url) as running:
        yield running


class PrivateNats:
    """A nats-server with JetStream on its own port and storage, for tests that stop it."""

    def __init__(self, storage: Path) -> None:
        self.port = free_port()
        self.storage = storage
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not Path(NATS_SERVER).exists():
            pytest.skip("nats-server binary not found")
        self.process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.storage)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not _reachable(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("private nats-server did not start")
            time.sleep(0.02)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


@contextmanager
def private_nats(storage: Path):
    server = PrivateNats(storage)
    server.start()
    try:
        yield server
    finally:
        server.kill()


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
