"""The rides service's Context: what its routes and handlers share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.rides.settings import RidesSettings


@dataclass(frozen=True)
class RidesContext:
    settings: RidesSettings
    infra: Infrastructure


def rides_context(runtime: ServiceRuntime) -> RidesContext:
    return RidesContext(settings=runtime.own_settings(), infra=runtime.infra)


Ctx = Annotated[RidesContext, Depends(service_context)]
