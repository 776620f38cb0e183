"""The tracking service's Context: its settings and the live trips (hub, writer), one per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import ServiceRuntime, service_context
from kilat.services.tracking.live import LiveTracking
from kilat.services.tracking.settings import TrackingSettings


@dataclass(frozen=True)
class TrackingContext:
    settings: TrackingSettings
    live: LiveTracking


def tracking_context(runtime: ServiceRuntime) -> TrackingContext:
    settings = runtime.own_settings()
    return TrackingContext(settings, LiveTracking(runtime, settings))


Ctx = Annotated[TrackingContext, Depends(service_context)]
