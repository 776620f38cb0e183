"""A supervised child process: restarted when it exits or hangs, stopped on request."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from dataclasses import dataclass

import pytest

from kilat import supervisor
from kilat.supervisor import Child
from tests.support.harness import free_port

CRASH = "import sys; sys.exit(3)"
IGNORE_TERM = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
# answers every probe with 503, like a gateway whose upstreams are down
DEGRADED = textwrap.dedent("""
    import sys
    from http.server import BaseHTTPRequestHandler, HTTPServer
    class Degraded(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(503); self.end_headers()
        def log_message(self, *args): pass
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Degraded).serve_forever()
""")
# answers /health twice, then hangs like a deadlocked event loop
HANGS = textwrap.dedent("""
    import sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer
    served = 0
    class Health(BaseHTTPRequestHandler):
        def do_GET(self):
            global served
            served += 1
            if served > 2:
                time.sleep(60)
            self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
        def log_message(self, *args): pass
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
""")


@dataclass
class ScriptChild(Child):
    script: str = ""

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-c", self.script, str(self.port)]


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(supervisor, "RESTART_BACKOFF_SECONDS", 0.05)
    monkeypatch.setattr(supervisor, "HEALTH_INTERVAL_SECONDS", 0.2)
    monkeypatch.setattr(supervisor, "HEALTH_TIMEOUT_SECONDS", 0.3)


def child(script: str) -> ScriptChild:
    return ScriptChild("fake", "127.0.0.1", free_port(), env={}, script=script)


async def test_a_child_that_exits_is_restarted_until_stopped(quick):
    crashing = child(CRASH)
    task = asyncio.create_task(crashing.run())
    while crashing.restarts < 3:
        await asyncio.sleep(0.02)
    await crashing.stop()
    await asyncio.wait_for(task, 5)
    assert crashing.process.returncode == 3


async def test_stop_kills_a_child_that_ignores_sigterm_after_the_grace_period(quick):
    stubborn = child(IGNORE_TERM)
    task = asyncio.create_task(stubborn.run())
    while stubborn.pid is None:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # let it install its handler
    await stubborn.stop(grace_seconds=0.5)
    await asyncio.wait_for(task, 5)
    assert stubborn.process.returncode == -9
    assert stubborn.restarts == 0


async def test_a_child_that_stops_answering_health_is_killed_and_restarted(quick):
    hanging = child(HANGS)
    task = asyncio.create_task(hanging.run())
    first = None
    while hanging.restarts < 1:
        first = first or hanging.pid
        await asyncio.sleep(0.05)
    while hanging.pid is None:
        await asyncio.sleep(0.02)
    assert hanging.pid != first
    await hanging.stop()
    await asyncio.wait_for(task, 5)


async def test_a_child_that_answers_but_reports_trouble_is_left_running(quick):
    degraded = child(DEGRADED)
    task = asyncio.create_task(degraded.run())
    await asyncio.sleep(2.0)  # ten probe intervals
    assert degraded.restarts == 0 and degraded.pid is not None
    await degraded.stop()
    await asyncio.wait_for(task, 5)
