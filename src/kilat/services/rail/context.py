"""The rail service's Context: what its routes and handlers share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.rail.settings import RailSettings


@dataclass(frozen=True)
class RailContext:
    settings: RailSettings
    infra: Infrastructure


def rail_context(runtime: ServiceRuntime) -> RailContext:
    return RailContext(settings=runtime.own_settings(), infra=runtime.infra)


Ctx = Annotated[RailContext, Depends(service_context)]
