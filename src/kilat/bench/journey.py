"""``journey``: complete pet journeys per second, and event latency from outbox to consumer.

Each worker is one owner and one runner (real accounts). A journey is: create the booking, pay
(escrow held), accept, pick up, deliver, confirm, then poll until the payment service has released
the escrow (the ``booking.completed`` event reached it). Event latency is read afterwards from the
services' own tables: an inbox row's ``handled_at`` minus its outbox row's ``created_at``, for
every event consumed during the measured window.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import MetaData, select

from kilat.bench.actors import booking_body, expect, registered, runner_online
from kilat.bench.platform import BenchError, Platform, ResourceMonitor
from kilat.bench.results import Result, Target
from kilat.platform.db import Database
from kilat.platform.events.tables import event_tables
from kilat.platform.settings import Settings
from kilat.services import SERVICES
from kilat.simulate.client import ApiError, UserClient
from kilat.simulate.stats import Stats, percentile

TARGETS = [Target("throughput_per_s", 100, at_most=False), Target("event_p99_ms", 200)]
RELEASE_TIMEOUT_SECONDS = 15.0
# how often an owner's app asks whether the escrow was released: as an app would, not in a tight
# loop (24 owners polling every 20 ms made the polling itself most of the platform's load)
RELEASE_POLL_SECONDS = 0.25


async def journey(owner: UserClient, runner: UserClient, rng: random.Random) -> None:
    booking = await owner.call("book", "POST", "/api/v1/bookings", booking_body(rng))
    path = f"/api/v1/bookings/{booking['id']}"
    await owner.call("pay", "POST", "/api/v1/payments/initiate", {"booking_id": booking["id"]})
    for step in ("accept", "pickup", "deliver"):
        await runner.call(step, "POST", f"{path}/{step}")
    await owner.call("confirm", "POST", f"{path}/confirm")
    deadline = time.monotonic() + RELEASE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        payment = await owner.call("escrow", "GET", f"/api/v1/payments/booking/{booking['id']}")
        if payment["escrow_status"] == "released":
            return
        await asyncio.sleep(RELEASE_POLL_SECONDS)
    raise ApiError("GET", "escrow", 0, "escrow not released in time")


async def pair(platform: Platform, stats: Stats, index: int) -> tuple[UserClient, UserClient]:
    owner = await registered(platform, "owner", stats, f"bench-journey-o{index}")
    runner = await registered(platform, "runner", stats, f"bench-journey-r{index}")
    await expect(runner_online(runner, 3.139 + index * 1e-3, 101.6869), "runner online")
    return owner, runner


async def run(platform: Platform, *, quick: bool) -> list[Result]:
    workers, seconds = (2, 2.0) if quick else (24, 20.0)
    stats = Stats()
    pairs = [await pair(platform, stats, i) for i in range(workers)]
    done, latencies, errors, samples = 0, [], 0, []
    window_start = datetime.now(UTC)
    stop_at = time.monotonic() + seconds

    async def worker(index: int, owner: UserClient, runner: UserClient) -> None:
        nonlocal done, errors
        rng = random.Random(index)
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                await journey(owner, runner, rng)
            except ApiError as exc:
                errors += 1
                if len(samples) < 5:
                    samples.append(str(exc))
                continue
            done += 1
            latencies.append((time.perf_counter() - began) * 1000)

    monitor = ResourceMonitor(platform.processes(), label=f"journey-{platform.profile}",
                              seconds=seconds)
    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker(i, o, r) for i, (o, r) in enumerate(pairs)))
    finally:
        for owner, runner in pairs:
            await owner.aclose()
            await runner.aclose()
    elapsed = time.perf_counter() - began
    figures = {"throughput_per_s": round(done / elapsed, 2), "journeys": done,
               "p50_ms": round(percentile(latencies, 50), 1),
               "p95_ms": round(percentile(latencies, 95), 1),
               "p99_ms": round(percentile(latencies, 99), 1),
               "errors": errors, "error_samples": samples,
               "workers": workers, "step_p50_ms": _step_medians(stats)} | await monitor.stop()
    figures |= await event_latency(platform, window_start)
    return [Result("journey", platform.profile, f"{workers} owner/runner pairs, {seconds:g} s",
                   figures, TARGETS if platform.profile == "distributed" else [])]


def _step_medians(stats: Stats) -> dict[str, float]:
    return {name: round(percentile(values, 50), 1) for name, values in stats.latencies_by_call.items()
            if name not in ("register", "profile", "online")}


async def event_latency(platform: Platform, since: datetime) -> dict:
    """Outbox → consumer latency of every event handled since ``since``, over all services."""
    created, handled = {}, []
    tables = event_tables(MetaData())
    settings = Settings(data_dir=platform.data_dir, database_urls=platform.database_urls,
                        profile=platform.profile)
    margin = since - timedelta(minutes=1)
    for name in SERVICES:
        database = Database(settings.database_url(name), service=name)
        try:
            async with database.session(write=False) as session:
                rows = await session.execute(select(tables.outbox.c.id, tables.outbox.c.created_at)
                                             .where(tables.outbox.c.created_at >= margin))
                created.update(rows.all())
                rows = await session.execute(
                    select(tables.inbox.c.event_id, tables.inbox.c.consumer, tables.inbox.c.handled_at)
                    .where(tables.inbox.c.handled_at >= since))
                handled.extend(rows.all())
        except Exception as exc:  # noqa: BLE001 - a service without event tables
            raise BenchError(f"could not read {name}'s event tables: {exc}") from exc
        finally:
            await database.dispose()
    delays, by_consumer = [], {}
    for event_id, consumer, at in handled:
        if event_id in created:
            delay = (at - created[event_id]).total_seconds() * 1000
            delays.append(delay)
            by_consumer.setdefault(consumer, []).append(delay)
    return {"events_consumed": len(delays),
            "event_p50_ms": round(percentile(delays, 50), 1),
            "event_p95_ms": round(percentile(delays, 95), 1),
            "event_p99_ms": round(percentile(delays, 99), 1),
            # where the latency builds up: p50 / p99 and count of each consuming service
            "event_ms_by_consumer": {
                name: {"p50": round(percentile(values, 50), 1),
                       "p99": round(percentile(values, 99), 1), "events": len(values)}
                for name, values in sorted(by_consumer.items())}}
