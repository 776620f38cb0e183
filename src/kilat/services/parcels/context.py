"""The parcels service's Context: what its routes and handlers share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.parcels.settings import ParcelsSettings


@dataclass(frozen=True)
class ParcelsContext:
    settings: ParcelsSettings
    infra: Infrastructure


def parcels_context(runtime: ServiceRuntime) -> ParcelsContext:
    return ParcelsContext(settings=runtime.own_settings(), infra=runtime.infra)


Ctx = Annotated[ParcelsContext, Depends(service_context)]
