"""``kilat simulate``: a living Kuala Lumpur of pet owners and runners, driven through the public API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from rich.console import Console

from kilat.simulate.client import Target
from kilat.simulate.config import SimulationConfig
from kilat.simulate.engine import Simulation
from kilat.simulate.stats import Stats

__all__ = ["SimulationConfig", "Simulation", "Target", "run_simulation", "demo_in_background"]


async def run_simulation(config: SimulationConfig, target: Target, *, console: Console | None = None,
                         progress: bool = True, json_path: Path | None = None) -> dict:
    """Run one simulation with an optional live panel; print and optionally write the summary."""
    from kilat.simulate.display import show_progress, summary_table

    stats = Stats()
    simulation = Simulation(config, target, stats)
    done = asyncio.Event()
    panel = None
    if progress and console is not None:
        panel = asyncio.create_task(show_progress(stats, config.ticks, console, done))
    try:
        summary = await simulation.run()
    finally:
        done.set()
        if panel is not None:
            await panel
    if console is not None:
        console.print(summary_table(summary))
    if json_path is not None:
        json_path.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


DEMO_CITY = SimulationConfig(owners=4, runners=3, minutes=24 * 60, seed=7, signups_per_tick=1,
                             ping_every_ticks=3, poll_every_ticks=4, think_ticks=(10, 40))


async def demo_in_background(app, config: SimulationConfig = DEMO_CITY) -> None:
    """A small city inside ``kilat up --demo``, through the gateway app in this process.

    Each simulated phone has its own client address, so it stays within the per-client rate limit.
    """
    await asyncio.sleep(1.0)
    await Simulation(config, Target(url="in-process", app=app)).run()
