"""``kilat bench``: measure the platform against its targets, scenario by scenario.

Every scenario starts what it measures (a throw-away platform on a free port, or a service
benchmark script), is bounded in time, and sends traffic to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

from rich.console import Console

from kilat.bench import bare, ingest, journey, parcels, rail, read, rides, scripts, startup
from kilat.bench.platform import BenchError, Platform, launch
from kilat.bench.results import Report, Result

__all__ = ["BenchError", "Report", "SCENARIOS", "run_benchmarks", "bench_main"]

PlatformScenario = Callable[..., Awaitable[list[Result]]]
ON_PLATFORM: dict[str, PlatformScenario] = {"bare": bare.run, "read": read.run,
                                            "journey": journey.run, "ingest": ingest.run}
MEASURED_AGAINST_BARE = ("read", "ingest")
ON_THEIR_OWN: dict[str, Callable[..., Awaitable[list[Result]]]] = {
    "startup": startup.run, "fanout": scripts.fanout, "nearby": scripts.nearby,
    "parcels": parcels.run, "rides": rides.run, "rail": rail.run}
SCENARIOS = ("startup", "bare", "read", "journey", "ingest", "fanout", "nearby", "parcels",
             "rides", "rail")
PROFILES = {"embedded": ["embedded"], "distributed": ["distributed"],
            "both": ["embedded", "distributed"]}


def plan(names: list[str], profile: str) -> tuple[list[str], list[str]]:
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise BenchError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    if profile not in PROFILES:
        raise BenchError(f"unknown profile {profile!r}; use embedded, distributed or both")
    return [name for name in SCENARIOS if name in (names or SCENARIOS)], PROFILES[profile]


async def run_benchmarks(names: list[str], profile: str = "both", *, quick: bool = False,
                         console: Console | None = None) -> Report:
    scenarios, profiles = plan(names, profile)
    report = Report(quick=quick)
    say = console.print if console is not None else (lambda *_: None)
    for each in profiles:
        for name in scenarios:
            if name in ON_THEIR_OWN:
                await _attempt(report, name, each, say, lambda n=name, p=each: ON_THEIR_OWN[n](p, quick=quick))
        on_platform = [name for name in scenarios if name in ON_PLATFORM]
        if "bare" not in on_platform and any(n in MEASURED_AGAINST_BARE for n in on_platform):
            on_platform.insert(0, "bare")  # the HTTP scenarios' ratios need it, in this run
        if on_platform:
            await _on_one_platform(report, on_platform, each, quick, say)
    if console is not None:
        console.print(report.table())
    return report


async def _on_one_platform(report: Report, names: list[str], profile: str, quick: bool, say) -> None:
    say(f"[bold]starting the {profile} platform[/bold]")
    try:
        platform: Platform = await launch(profile)
    except BenchError as exc:
        for name in names:
            report.skipped.append({"scenario": name, "profile": profile, "reason": str(exc)[:500]})
        say(f"[yellow]{profile} skipped: {str(exc)[:300]}[/yellow]")
        return
    try:
        for name in names:
            await _attempt(report, name, profile, say,
                           lambda n=name: ON_PLATFORM[n](platform, quick=quick), platform)
    finally:
        await platform.stop()


async def _attempt(report: Report, name: str, profile: str, say, scenario,
                   platform: Platform | None = None) -> None:
    say(f"[bold]{name}[/bold] ({profile}) ...")
    try:
        results = await scenario()
    except BenchError as exc:
        log = platform.log_tail(2000) if platform is not None else ""
        report.skipped.append({"scenario": name, "profile": profile, "reason": str(exc)[:500],
                               "platform_log_tail": log})
        say(f"[yellow]{name} ({profile}) skipped: {str(exc)[:300]}[/yellow]")
        return
    for result in results:
        report.add(result)
        say(f"  {result.case}: {_brief(result)}")


def _brief(result: Result) -> str:
    f = result.figures
    parts = [f"{key}={f[key]}" for key in ("throughput_per_s", "p50_ms", "p99_ms", "event_p99_ms",
                                           "started_in_s", "platform_rss_mb", "errors") if key in f]
    return ", ".join(parts) + f" [{result.verdict}]"


def bench_main(names: list[str], profile: str, *, quick: bool, console: Console) -> Report:
    """Run on uvloop when it is installed (the load generator then costs less CPU). SIGINT and
    SIGTERM cancel the run, which still stops its platforms and drops their databases."""
    loop_factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        loop_factory = uvloop.new_event_loop

    async def guarded() -> Report:
        task, loop = asyncio.current_task(), asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        return await run_benchmarks(names, profile, quick=quick, console=console)

    with asyncio.Runner(loop_factory=loop_factory) as runner:
        try:
            return runner.run(guarded())
        except asyncio.CancelledError as exc:
            raise BenchError("interrupted; platforms stopped and cleaned up") from exc
