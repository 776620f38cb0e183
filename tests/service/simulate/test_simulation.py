"""A tiny city against an in-process embedded platform: journeys complete, nothing fails."""

from __future__ import annotations

import asyncio

from asgi_lifespan import LifespanManager

from kilat.app import build_embedded_app
from kilat.simulate import DEMO_ADMIN, Simulation, SimulationConfig, Target
from tests.support.harness import make_settings

TINY = dict(owners=3, runners=2, minutes=0.05, tick_seconds=0.1, signups_per_tick=5,
            think_ticks=(1, 2), leg_ticks=(2, 3), follow_up_seconds=5, cancel_rate=0.0,
            decline_rate=0.0, share_rate=1.0, promo_rate=1.0)


async def simulate(data_dir, **overrides) -> dict:
    app = build_embedded_app(make_settings(data_dir, rate_limit_per_minute=100, log_level="ERROR"))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        payment = app.state.runtimes["payment"]
        async with payment.database.session() as session:  # the welcome promo of `kilat up --demo`
            await payment.descriptor.seed_demo(session)
        config = SimulationConfig(**(TINY | overrides))
        return await Simulation(config, Target(url="in-process", app=app)).run()


async def test_tiny_city_completes_journeys_with_reviews_and_released_escrow(tmp_path):
    summary = await simulate(tmp_path, seed=5)

    assert summary["errors"] == 0, summary["error_samples"]
    bookings = summary["bookings"]
    assert bookings["completed"] > 0
    assert bookings["created"] >= bookings["accepted"] >= bookings["completed"]
    assert bookings["reviewed"] == bookings["escrow_released"] == bookings["completed"]
    assert bookings["shared"] > 0
    assert summary["pings_sent"] > 0 and summary["pings_accepted"] > 0
    assert summary["actions"]["pay"] == bookings["created"]
    assert summary["actions"]["promos"] == 1
    assert summary["latency_ms"]["p50"] > 0


async def test_same_seed_replays_the_same_actions(tmp_path):
    quick = dict(minutes=0.03, share_rate=0.0, cancel_rate=0.3, decline_rate=0.3)
    first = await simulate(tmp_path / "a", seed=9, **quick)
    again = await simulate(tmp_path / "b", seed=9, **quick)

    assert first["errors"] == again["errors"] == 0
    assert first["actions"]["book"] > 0
    assert first["actions"] == again["actions"]
    assert first["action_digest"] == again["action_digest"]


async def test_up_demo_runs_a_small_city_in_the_background(tmp_path):
    from sqlalchemy import func, select

    from kilat.services.identity.models import User

    app = build_embedded_app(make_settings(tmp_path, log_level="ERROR"), demo=True)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        identity = app.state.runtimes["identity"].database
        deadline = asyncio.get_running_loop().time() + 20
        users = 0
        while users < 4 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.25)
            async with identity.session(write=False) as session:
                users = await session.scalar(select(func.count()).select_from(User))
        assert any(task.get_name().endswith("demo-city") for task in asyncio.all_tasks())
        async with identity.session(write=False) as session:  # made in process, for the sink
            roles = dict((await session.execute(select(User.email, User.role))).all())
    assert users >= 4
    assert roles[DEMO_ADMIN] == "admin"
    assert {"passenger", "driver", "customer", "courier"} & set(roles.values())
