"""The rides service's Context: its settings and the live objects (driver index, sockets,
deadline worker), one per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.rides.live import LiveRides, build_index
from kilat.services.rides.settings import RidesSettings


@dataclass(frozen=True)
class RidesContext:
    settings: RidesSettings
    infra: Infrastructure
    live: LiveRides


def rides_context(runtime: ServiceRuntime) -> RidesContext:
    settings = runtime.own_settings()
    index = build_index(settings, runtime.settings.profile, runtime.infra.redis,
                        runtime.settings.nats_subject_prefix)
    return RidesContext(settings=settings, infra=runtime.infra,
                        live=LiveRides(runtime, settings, index))


Ctx = Annotated[RidesContext, Depends(service_context)]
