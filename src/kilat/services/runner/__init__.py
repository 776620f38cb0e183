"""Runner service: runner profiles and sessions, the live location index, nearby search with pet
eligibility, and the pet shop directory."""

from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor
from kilat.platform.settings import SERVICE_PORTS
from kilat.services.runner.api import petshops, runners
from kilat.services.runner.context import runner_context
from kilat.services.runner.handlers import handlers
from kilat.services.runner.live import start_live, stop_live
from kilat.services.runner.models import metadata
from kilat.services.runner.service import seed_demo_shops, start_offline_sweeper
from kilat.services.runner.settings import RunnerSettings

descriptor = ServiceDescriptor(
    name="runner",
    port=SERVICE_PORTS["runner"],
    title="Kilat runner service",
    routers=[runners, petshops],
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    extensions=("postgis",),
    on_start=[start_live, start_offline_sweeper],
    on_stop=[stop_live],
    seed_demo=seed_demo_shops,
    settings=RunnerSettings,
    context=runner_context,
)
