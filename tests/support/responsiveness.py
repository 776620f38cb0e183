"""How long a running platform takes to answer /health while something else keeps it busy.

The platform under test runs in other processes, so a loop-lag probe inside the test process would
only time the test. A service whose event loop is stuck on CPU work cannot answer /health either,
so the round trip of a /health poll is the lag of that service's loop, as a client meets it.

On a machine shared with other work, a round trip also includes time nobody's loop was at fault:
the service's loop thread waiting in the kernel's run queue for a CPU (Linux reports it in
/proc/<pid>/schedstat), and the test process itself waking late (a second thread sleeps 10 ms in a
loop and records how late it wakes). A round trip is charged only what exceeds both.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import httpx

POLL_INTERVAL_SECONDS = 0.05
TICK_SECONDS = 0.01
ANSWER_TIMEOUT_SECONDS = 5.0
OWN_LAG_WAIT_SECONDS = 0.5


@dataclass(frozen=True)
class Stall:
    target: str
    seconds: float
    own_lag: float
    queued: float
    during: str

    @property
    def platform_lag(self) -> float:
        return self.seconds - self.own_lag - self.queued


class ResponsivenessProbe:
    """Polls every target's /health from a thread; remembers the slowest answer of each and what
    the test was doing at the time (``during``, set by the test)."""

    def __init__(self, targets: dict[str, str], pids: dict[str, int] | None = None) -> None:
        self.targets = targets
        self.pids = pids or {}
        self.during = "start"
        self.worst: dict[str, Stall] = {}
        self._ticks: deque[tuple[float, float]] = deque(maxlen=4096)  # (woke at, lateness)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._poll, name="health-probe", daemon=True),
                         threading.Thread(target=self._tick, name="own-lag-probe", daemon=True)]

    def __enter__(self) -> ResponsivenessProbe:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(ANSWER_TIMEOUT_SECONDS * (len(self.targets) + 1))

    def stalls(self, limit_seconds: float) -> list[Stall]:
        return [stall for stall in self.worst.values() if stall.platform_lag >= limit_seconds]

    def _tick(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            time.sleep(TICK_SECONDS)
            woke = time.perf_counter()
            self._ticks.append((woke, woke - started - TICK_SECONDS))

    def _poll(self) -> None:
        with httpx.Client(timeout=ANSWER_TIMEOUT_SECONDS, trust_env=False) as client:
            while not self._stop.is_set():
                for target, url in self.targets.items():
                    during, pid = self.during, self.pids.get(target)
                    queued, started = run_queue_seconds(pid), time.perf_counter()
                    seconds = answer_time(client, url)
                    queued = run_queue_seconds(pid) - queued
                    self._record(Stall(target, seconds, self._own_lag(started), queued, during))
                self._stop.wait(POLL_INTERVAL_SECONDS)

    def _own_lag(self, since: float) -> float:
        """The test process's worst lateness from ``since`` until its next tick."""
        ended = time.perf_counter()
        deadline = ended + OWN_LAG_WAIT_SECONDS
        while not (self._ticks and self._ticks[-1][0] >= ended) and time.perf_counter() < deadline:
            time.sleep(TICK_SECONDS / 2)
        return max((late for woke, late in list(self._ticks) if woke >= since), default=0.0)

    def _record(self, stall: Stall) -> None:
        worst = self.worst.get(stall.target)
        if worst is None or stall.platform_lag > worst.platform_lag:
            self.worst[stall.target] = stall


def answer_time(client: httpx.Client, url: str) -> float:
    """Seconds until ``url`` answered 200; the full timeout when it did not."""
    started = time.perf_counter()
    try:
        ok = client.get(url).status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - started if ok else ANSWER_TIMEOUT_SECONDS


def run_queue_seconds(pid: int | None) -> float:
    """How long the process's main thread has waited for a CPU so far (0 where unknown)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0
