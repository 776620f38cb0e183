"""``fanout`` and ``nearby``: the tracking and runner engineers' own benchmark scripts, run as
scenarios.

Each script (``bench/tracking_fanout.py``, ``bench/runner_nearby.py``) runs the service code under
test in its own process and prints one JSON line per case; that process is the one whose CPU
and memory are reported. They live in the repository's ``bench/`` folder, so these scenarios run
from a checkout and are skipped elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import psutil

from kilat.bench.platform import POSTGRES_URL, BenchError, ResourceMonitor, check_servers
from kilat.bench.results import Result, Target

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"
SCRIPT_TIMEOUT_SECONDS = 600.0
FANOUT_TIMEOUT_SECONDS = 720.0


async def run_script(name: str, args: list[str], timeout: float = SCRIPT_TIMEOUT_SECONDS
                     ) -> tuple[list[dict], dict]:
    """Run ``bench/<name>`` and return its JSON result lines and its process tree's usage."""
    script = BENCH_DIR / name
    if not script.exists():
        raise BenchError(f"{script} is not here (run kilat bench from a source checkout)")
    with tempfile.TemporaryDirectory(prefix="kilat-bench-script-") as tmp:
        out, log = Path(tmp) / "out.json", Path(tmp) / "script.log"
        with log.open("wb") as sink:
            process = await asyncio.create_subprocess_exec(
                sys.executable, str(script), "--json", str(out), *args, stdout=sink, stderr=sink)
        root = psutil.Process(process.pid)
        monitor = ResourceMonitor([root])
        watcher = asyncio.ensure_future(_follow_children(root, monitor))
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError as exc:
            await _interrupt(process, root)
            raise BenchError(f"{name} did not finish in {timeout:.0f} s; its log ends:\n"
                             f"{_tail(log)}") from exc
        finally:
            watcher.cancel()
        usage = await monitor.stop()
        if process.returncode != 0 or not out.exists():
            raise BenchError(f"{name} failed with exit code {process.returncode}:\n{_tail(log)}")
        return json.loads(out.read_text()), usage


def _tail(log: Path, chars: int = 1500) -> str:
    return log.read_text(errors="replace")[-chars:]


async def _interrupt(process: asyncio.subprocess.Process, root: psutil.Process) -> None:
    """SIGINT first, so the script drops its databases on the way out; then kill what is left."""
    try:
        family = [*root.children(recursive=True), root]
    except psutil.Error:
        family = []
    process.send_signal(signal.SIGINT)
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        pass
    for member in family:
        try:
            member.kill()
        except psutil.Error:
            pass
    await process.wait()


async def _follow_children(root: psutil.Process, monitor: ResourceMonitor) -> None:
    """Add child processes (the fan-out viewers) to the monitor as they appear."""
    while True:
        await asyncio.sleep(0.5)
        try:
            for child in root.children(recursive=True):
                monitor.watch(child)
        except psutil.Error:
            return


def _figures(line: dict, usage: dict) -> dict:
    keep = {k: v for k, v in line.items() if k not in ("scenario", "profile")}
    return keep | {key: usage[key] for key in ("platform_cpu_percent", "platform_rss_mb",
                                               "script_seconds") if key in usage}


async def fanout(profile: str, *, quick: bool) -> list[Result]:
    """Embedded only outside quick runs: 10k viewer sockets take minutes to open on two cores,
    and the fan-out path (bus → hub → sockets) is the same code in both profiles."""
    if profile == "distributed" and not quick:
        raise BenchError("fanout runs once, on the embedded profile (the hub is the same code)")
    args = ["--trips", "20", "--seconds", "1", "--burst", "200"] if quick \
        else ["--trips", "1000", "10000", "--seconds", "6"]
    if profile == "distributed":
        check_servers()
        args += ["--database-url", POSTGRES_URL]
    began = time.monotonic()
    lines, usage = await run_script("tracking_fanout.py", args, timeout=FANOUT_TIMEOUT_SECONDS)
    usage["script_seconds"] = round(time.monotonic() - began, 1)
    results = []
    for line in lines:
        targets = [Target("p99_ms", 100)] if line.get("trips") == 10_000 else []
        results.append(Result("fanout", profile, f"{line.get('trips')} live trips",
                              _figures(line, usage), targets))
    return results


NEARBY_TARGETS = {100_000: [Target("p99_ms", 5)], 1_000_000: [Target("p99_ms", 10)]}


async def nearby(profile: str, *, quick: bool) -> list[Result]:
    args = ["--profiles", profile]
    if quick:
        args += ["--runners", "200", "--queries", "20", "--warmup", "5", "--seconds", "0.5"]
    elif profile == "distributed":
        args += ["--runners", "10000", "100000", "--million"]
    else:  # 1M rows in SQLite and the in-memory grid take minutes to load for the same answer
        args += ["--runners", "10000", "100000"]
    if profile == "distributed":
        check_servers()
    lines, usage = await run_script("runner_nearby.py", args)
    results = []
    for line in lines:
        runners = line.get("runners", 0)
        filtered = line.get("filter", "none") != "none"
        targets = NEARBY_TARGETS.get(runners, []) if not filtered else []
        case = f"{runners:,} runners" + (f", {line['filter']} filter" if filtered else "")
        results.append(Result("nearby", profile, case, _figures(line, usage), targets))
    return results
