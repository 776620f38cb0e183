"""``startup``: from ``kilat up`` to a healthy gateway, and the memory it then holds.

``cpu_seconds_to_healthy`` is the CPU the process tree used until then: on a busy machine the
wall-clock time stretches, the CPU time does not.

Twice per profile: on a fresh data dir (keys made, every migration run) and again on the same
data (a restart). Resident memory is the whole process tree's, measured once healthy and idle.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from kilat.bench.platform import launch
from kilat.bench.results import Result, Target

TARGETS = [Target("started_in_s", 3.0), Target("platform_rss_mb", 300)]


async def measure(profile: str, data_dir: Path, case: str) -> Result:
    platform = await launch(profile, data_dir=data_dir) if profile == "embedded" \
        else await launch(profile)
    try:
        await asyncio.sleep(1.0)
        processes = platform.processes()
        rss = sum(p.memory_info().rss for p in processes) / 2**20
        figures = {"started_in_s": round(platform.started_in, 2), "platform_rss_mb": round(rss, 1),
                   "cpu_seconds_to_healthy": round(platform.startup_cpu_seconds, 2),
                   "platform_processes": len(processes), "errors": 0}
    finally:
        await platform.stop()
    return Result("startup", profile, case, figures, TARGETS if profile == "embedded" else [])


async def run(profile: str, *, quick: bool) -> list[Result]:
    if profile == "distributed":
        return [await measure(profile, Path(), "fresh databases")]
    with tempfile.TemporaryDirectory(prefix="kilat-bench-startup-") as tmp:
        first = await measure(profile, Path(tmp), "fresh data dir")
        if quick:
            return [first]
        return [first, await measure(profile, Path(tmp), "restart on existing data")]
