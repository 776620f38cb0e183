"""The parcels service's Context: what its routes and handlers share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.platform.storage import BlobStorage, build_storage
from kilat.services.parcels.live import LiveParcels
from kilat.services.parcels.settings import ParcelsSettings
from kilat.services.parcels.webhooks import WebhookSender

FILES_PATH = "/api/v1/parcels/photos/files"


@dataclass
class ParcelsContext:
    settings: ParcelsSettings
    infra: Infrastructure
    runtime: ServiceRuntime
    live: LiveParcels
    storage: BlobStorage
    webhook_sender: WebhookSender
    jobs: Any = field(default=None)


def parcels_context(runtime: ServiceRuntime) -> ParcelsContext:
    from kilat.services.parcels.jobs import JobRunner

    settings = runtime.own_settings()
    context = ParcelsContext(
        settings=settings, infra=runtime.infra, runtime=runtime,
        live=LiveParcels(runtime, settings),
        storage=build_storage(runtime.settings, base_url=FILES_PATH),
        webhook_sender=WebhookSender(runtime.database, settings))
    context.jobs = JobRunner(runtime, context)
    return context


Ctx = Annotated[ParcelsContext, Depends(service_context)]
