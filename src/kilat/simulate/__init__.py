"""``kilat simulate``: a living Kuala Lumpur (pet owners and runners, ride passengers and drivers,
parcel customers and couriers, rail travellers), driven through the public API."""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from kilat.simulate.client import Target
from kilat.simulate.config import SimulationConfig
from kilat.simulate.engine import Simulation
from kilat.simulate.stats import Stats

__all__ = ["SimulationConfig", "Simulation", "Target", "run_simulation", "demo_in_background",
           "in_process_admin", "DEMO_ADMIN"]


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
                             ping_every_ticks=3, poll_every_ticks=4, think_ticks=(10, 40),
                             verticals=("pets", "rides", "parcels", "rail"), passengers=3,
                             drivers=3, customers=3, couriers=3, travellers=3)
DEMO_ADMIN = "demo-city-admin@example.com"
DEMO_ADDRESSES = 1 << 20  # 127.16.x.y


async def in_process_admin(app, email: str = DEMO_ADMIN) -> tuple[str, str]:
    """An admin for a city inside this process (the demo), made the way ``kilat admin create``
    makes one, with a fresh random password that lives only in this process's memory: it reads
    the development sink (booking codes) and nothing outside the process can sign in with it."""
    from kilat.services.identity.service import create_admin

    password = secrets.token_urlsafe(24)
    async with app.state.runtimes["identity"].database.session() as session:
        await create_admin(session, email, password, "Demo city (simulator)")
    return email, password


async def demo_in_background(app, config: SimulationConfig = DEMO_CITY) -> None:
    """A small city inside ``kilat up --demo``, through the gateway app in this process; only
    ``--demo`` calls it, so only a demo platform gets its admin.

    Each simulated phone has its own client address, so it stays within the per-client rate limit.
    """
    await asyncio.sleep(1.0)
    verticals = tuple(v for v in config.verticals if v == "pets" or v in app.state.runtimes)
    email, password = await in_process_admin(app)
    config = replace(config, verticals=verticals, admin_email=email, admin_password=password)
    # its phones use addresses of their own, so a `kilat simulate` run against the demo platform
    # does not share their rate-limit buckets
    await Simulation(config, Target(url="in-process", app=app, address_offset=DEMO_ADDRESSES)).run()
