"""The review service's Context: what its routes and handlers share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.review.settings import ReviewSettings


@dataclass(frozen=True)
class ReviewContext:
    settings: ReviewSettings
    infra: Infrastructure  # for the read-through to the booking service


def review_context(runtime: ServiceRuntime) -> ReviewContext:
    return ReviewContext(settings=runtime.own_settings(), infra=runtime.infra)


Ctx = Annotated[ReviewContext, Depends(service_context)]
