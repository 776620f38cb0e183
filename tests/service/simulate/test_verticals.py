"""A small city with every vertical against an in-process embedded platform: each vertical
completes whole journeys without an error, and a seed replays the same actions."""

from __future__ import annotations

import pytest
from asgi_lifespan import LifespanManager

from kilat.app import build_embedded_app
from kilat.simulate import Simulation, SimulationConfig, Target, in_process_admin
from tests.support.harness import make_settings

# Ticks of 0.1 s squeeze minutes into seconds; the rides meter judges a driver's speed on the
# server's clock, so a 1.5 km ride in a few ticks needs its speed filter opened (as the rides
# end-to-end test does) and the per-client rate limit raised.
CITY = dict(owners=1, runners=1, passengers=2, drivers=2, customers=2, couriers=3, travellers=3,
            verticals=("pets", "rides", "parcels", "rail"), minutes=0.05, tick_seconds=0.1,
            signups_per_tick=5, think_ticks=(1, 3), leg_ticks=(2, 3), rest_ticks=(1, 2),
            ride_speed_kmh=10_800.0, ride_km=(1.05, 1.4), follow_up_seconds=8, cancel_rate=0.0,
            decline_rate=0.0, share_rate=0.0, promo_rate=0.0, rival_rate=1.0, max_trip_km=4.0)


@pytest.fixture(autouse=True)
def fast_rides(monkeypatch):
    monkeypatch.setenv("KILAT_RIDES_MAX_SPEED_KMH", "100000")


async def admins_in(data_dir) -> list[str]:
    """The admins in a platform's identity database, read after it stopped."""
    from sqlalchemy import select

    from kilat.platform.db import Database
    from kilat.services.identity.models import User

    database = Database(make_settings(data_dir).database_url("identity"), service="identity")
    try:
        async with database.session(write=False) as session:
            return list(await session.scalars(select(User.email).where(User.role == "admin")))
    finally:
        await database.dispose()


async def simulate(data_dir, *, admin: bool, seed_rail: bool = True, **overrides) -> dict:
    app = build_embedded_app(make_settings(data_dir, rate_limit_per_minute=5000, log_level="ERROR"))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30):
        rail = app.state.runtimes["rail"]
        if seed_rail:  # the demo timetable, as `kilat rail seed` and `kilat up --demo` load it
            async with rail.database.session() as session:
                await rail.descriptor.seed_demo(session)
        credentials = {}
        if admin:
            email, password = await in_process_admin(app, "sim-test-admin@example.com")
            credentials = {"admin_email": email, "admin_password": password}
        config = SimulationConfig(**(CITY | credentials | overrides))
        return await Simulation(config, Target(url="in-process", app=app)).run()


async def test_every_vertical_completes_journeys_with_an_admin_reading_the_codes(tmp_path):
    summary = await simulate(tmp_path, admin=True, seed=3)

    assert summary["errors"] == 0, (summary["errors_by_call"], summary["error_samples"])
    rides, parcels, rail = (summary["verticals"][name] for name in ("rides", "parcels", "rail"))
    assert rides["requests"] >= rides["matches"] >= rides["arrived"] >= rides["paid"] >= 1
    assert rides["completed"] == rides["paid"] + rides.get("free_rides", 0)
    assert rides["fares_idr"] >= 2700 * rides["paid"]  # a kilometre or more, at 0.9 at least
    assert parcels["orders"] >= parcels["paid"] >= parcels["claimed"] >= parcels["delivered"] >= 1
    assert parcels["claim_lost"] >= 1  # a rival who saw the same job got 409
    assert rail["bookings"] >= rail["ticketed"] >= 1
    assert rail["tickets"] >= rail["ticketed"]
    assert "otp_skipped" not in rail
    assert summary["config"]["admin"] is True and summary["skipped"] == {}
    assert summary["bookings"]["created"] >= 1  # the pets still live in the same city


async def test_without_an_admin_travellers_release_their_holds_and_contested_seats_get_409(
        tmp_path):
    summary = await simulate(tmp_path, admin=False, seed=1, verticals=("rail",), minutes=0.05,
                             travellers=6, think_ticks=(1, 1))
    assert await admins_in(tmp_path) == []  # no demo: nobody made an admin

    assert summary["errors"] == 0, summary["error_samples"]
    rail = summary["verticals"]["rail"]
    assert rail["holds"] >= 1
    assert rail["otp_skipped"] == rail["holds"]
    assert rail["hold_conflicts"] >= 1  # travellers in the same tick wanted the same seat
    assert rail["holds"] + rail["hold_conflicts"] == rail["searches"]
    assert "bookings" not in rail
    assert summary["config"]["verticals"] == ["rail"]


async def test_rail_sits_out_when_no_timetable_is_on_sale(tmp_path):
    summary = await simulate(tmp_path, admin=False, seed_rail=False, seed=4, verticals=("rail",),
                             minutes=0.02)

    assert summary["errors"] == 0, summary["error_samples"]
    assert summary["actions"] == {"rail_closed": 1}
    assert "kilat rail seed" in summary["skipped"]["rail"]


async def test_same_seed_replays_the_same_actions_in_every_vertical(tmp_path):
    city = dict(minutes=0.035, seed=11, passengers=1, drivers=1, customers=1, couriers=2,
                travellers=2)
    first = await simulate(tmp_path / "a", admin=False, **city)
    again = await simulate(tmp_path / "b", admin=False, **city)

    assert first["errors"] == again["errors"] == 0, first["error_samples"] + again["error_samples"]
    assert {"ride_request", "parcel_order", "rail_hold"} <= set(first["actions"])
    assert first["actions"] == again["actions"]
    assert first["action_digest"] == again["action_digest"]


@pytest.mark.parametrize("wrong", [
    dict(verticals=("pets", "boats")), dict(verticals=()), dict(verticals=("rides",), drivers=0),
    dict(admin_email="a@example.com"), dict(admin_password="only-a-password"),
])
def test_a_city_that_cannot_be_run_is_refused(wrong):
    with pytest.raises(ValueError):
        SimulationConfig(**wrong)


def test_the_config_never_shows_the_admin_password():
    config = SimulationConfig(admin_email="a@example.com", admin_password="s3cret-Pa55")
    assert "s3cret" not in repr(config) and config.has_admin
