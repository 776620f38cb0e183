"""The runner service's Context: its settings and the live location index, one per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import ServiceRuntime, service_context
from kilat.services.runner.live import LiveRunners, build_index
from kilat.services.runner.settings import RunnerSettings


@dataclass(frozen=True)
class RunnerContext:
    settings: RunnerSettings
    live: LiveRunners


def runner_context(runtime: ServiceRuntime) -> RunnerContext:
    settings = runtime.own_settings()
    index = build_index(settings, runtime.settings.profile, runtime.infra.redis)
    return RunnerContext(settings, LiveRunners(settings, index, runtime.database, runtime.bus))


Ctx = Annotated[RunnerContext, Depends(service_context)]
