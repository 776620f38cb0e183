"""``bare``: the baseline every HTTP figure is divided by.

A minimal ASGI app answering a small JSON body, served in its own process by the same server
stack as ``kilat up`` (``kilat.cli._serve``: the same uvicorn settings on uvloop) and driven by
the same load generator at the same connection count as ``read``. A platform figure divided by
the bare one (``ratio_to_bare``) survives a noisy or different machine; the absolute figures
do not.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time

import psutil

from kilat.bench.loadgen import build_request, closed_loop
from kilat.bench.platform import BenchError, Platform, ResourceMonitor, free_ports
from kilat.bench.results import Result

BODY = b'{"success":true,"data":{"ok":true}}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send) -> None:
    """Answer every HTTP request with ``BODY``; accept the lifespan ``kilat up``'s server runs."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


class BareServer:
    """``python -m kilat.bench.bare --port N`` as a child process, until ``stop``."""

    def __init__(self) -> None:
        self.port = free_ports(1)[0]
        self.process = subprocess.Popen([sys.executable, "-m", "kilat.bench.bare", "--port", str(self.port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the bare server exited: {self.process.stderr.read().decode()[-500:]}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise BenchError(f"the bare server did not listen on {self.port} in {timeout:.0f}s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def run(platform: Platform, *, quick: bool) -> list[Result]:
    """Measured while ``platform`` idles, so both figures of a ratio share the machine's state."""
    connections, seconds = (8, 1.0) if quick else (64, 5.0)
    server = BareServer()
    try:
        await server.ready()
        request = build_request("GET", "/bare")
        monitor = ResourceMonitor([psutil.Process(server.process.pid)])
        load = await closed_loop("127.0.0.1", server.port, connections, seconds, lambda *_: request)
        figures = load.figures() | await monitor.stop()
    finally:
        server.stop()
    figures["error_samples"] = load.error_samples
    return [Result("bare", platform.profile, f"{connections} connections, {seconds:g} s", figures)]


def main() -> None:
    from kilat.cli import _serve

    parser = argparse.ArgumentParser(description="The bare ASGI endpoint of `kilat bench`.")
    parser.add_argument("--port", type=int, required=True)
    _serve(app, "127.0.0.1", parser.parse_args().port, banner="bare ASGI endpoint")


if __name__ == "__main__":
    main()
