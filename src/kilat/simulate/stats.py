"""Live counters of a simulation: actions, requests, errors, latencies, pings per second."""

from __future__ import annotations

import hashlib
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


@dataclass
class Stats:
    """Everything the progress display and the final summary show."""

    started: float = field(default_factory=time.monotonic)
    actions: Counter = field(default_factory=Counter)
    bookings: Counter = field(default_factory=Counter)
    requests: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    latencies_by_call: dict[str, list[float]] = field(default_factory=dict)
    pings_sent: int = 0
    pings_accepted: int = 0
    frames_seen: int = 0
    ticks: int = 0
    verticals: dict[str, Counter] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    _ping_times: deque = field(default_factory=lambda: deque(maxlen=200_000))
    _digest: Any = field(default_factory=hashlib.sha256)

    def action(self, tick: int, actor: str, what: str, *details: object) -> None:
        """Record one decision of the simulated world; the digest of these replays with the seed."""
        self.actions[what] += 1
        self._digest.update(f"{tick}|{actor}|{what}|{'|'.join(map(str, details))}\n".encode())

    def vertical(self, name: str) -> Counter:
        """The counters of one vertical (rides, parcels, rail), shown in the panel and summary."""
        return self.verticals.setdefault(name, Counter())

    def request(self, name: str, seconds: float) -> None:
        self.requests[name] += 1
        if len(self.latencies) < 1_000_000:
            self.latencies.append(seconds * 1000)
            self.latencies_by_call.setdefault(name, []).append(seconds * 1000)

    def error(self, name: str, status: int, text: str) -> None:
        self.errors[f"{name} {status}"] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{name}: {status} {text}")

    def ping(self, accepted: bool) -> None:
        self.pings_sent += 1
        self.pings_accepted += accepted
        self._ping_times.append(time.monotonic())

    def pings_per_second(self, window: float = 5.0) -> float:
        now = time.monotonic()
        recent = sum(1 for t in reversed(self._ping_times) if now - t <= window)
        return recent / min(window, max(now - self.started, 1e-3))

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()[:16]

    def latency_ms(self) -> dict[str, float]:
        return {f"p{p}": round(percentile(self.latencies, p), 2) for p in (50, 95, 99)}

    def summary(self) -> dict:
        elapsed = time.monotonic() - self.started
        return {
            "elapsed_s": round(elapsed, 1),
            "ticks": self.ticks,
            "bookings": dict(sorted(self.bookings.items())),
            "verticals": {name: dict(sorted(counts.items()))
                          for name, counts in self.verticals.items()},
            "skipped": dict(self.skipped),
            "actions": dict(sorted(self.actions.items())),
            "requests": sum(self.requests.values()),
            "requests_per_s": round(sum(self.requests.values()) / max(elapsed, 1e-3), 1),
            "latency_ms": self.latency_ms(),
            "calls": {name: {"count": self.requests[name],
                             "p50_ms": round(percentile(values, 50), 1),
                             "p99_ms": round(percentile(values, 99), 1)}
                      for name, values in sorted(self.latencies_by_call.items())},
            "pings_sent": self.pings_sent,
            "pings_accepted": self.pings_accepted,
            "tracking_frames_seen": self.frames_seen,
            "errors": self.error_count,
            "errors_by_call": dict(self.errors),
            "error_samples": self.error_samples,
            "action_digest": self.digest,
        }
