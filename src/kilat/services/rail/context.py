"""The rail service's Context: what its routes and handlers share for the life of a process."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.platform.settings import Profile
from kilat.services.rail.cache import MemorySearchCache, RedisSearchCache, SearchCache
from kilat.services.rail.locks import REDIS_CALLS, MemorySeatLocks, RedisSeatLocks, SeatLocks
from kilat.services.rail.qr import TicketSigner, load_signer
from kilat.services.rail.settings import RailSettings

log = structlog.get_logger(__name__)


def _snapshots():
    from kilat.services.rail.holds import JourneySnapshots

    return JourneySnapshots()


@dataclass(frozen=True)
class RailContext:
    settings: RailSettings
    infra: Infrastructure
    signer: TicketSigner
    locks: SeatLocks
    cache: SearchCache
    journeys: Any = field(default_factory=_snapshots)


def rail_context(runtime: ServiceRuntime) -> RailContext:
    settings: RailSettings = runtime.own_settings()
    infra = runtime.infra
    if settings.qr_private_key_path is None and infra.settings.profile is Profile.DISTRIBUTED:
        # each instance would sign with its own development key, and another instance's gate
        # would refuse its tickets: the distributed profile needs the one key, as for tokens
        if not infra.settings.allow_dev_secrets:
            raise ValueError("the distributed profile needs KILAT_RAIL_QR_PRIVATE_KEY_PATH and "
                             "KILAT_RAIL_QR_PUBLIC_KEY_PATH (create them with `kilat keys "
                             "generate`); development keys are refused")
        log.warning("rail tickets are signed with a development key (KILAT_ALLOW_DEV_SECRETS); "
                    "set KILAT_RAIL_QR_PRIVATE_KEY_PATH in production")
    signer = load_signer(settings.qr_private_key_path, settings.qr_public_key_path,
                         infra.settings.keys_dir)
    if infra.redis is None:
        return RailContext(settings, infra, signer, MemorySeatLocks(),
                           MemorySearchCache(settings.search_cache_seconds))
    # runs sharing one Redis (tests, staging) keep apart: the prefix names this rail database
    scope = hashlib.sha1(runtime.database.url.encode()).hexdigest()[:8]
    prefix = f"{settings.redis_key_prefix}:{scope}"
    calls = asyncio.Semaphore(REDIS_CALLS)
    return RailContext(settings, infra, signer, RedisSeatLocks(infra.redis, prefix, calls),
                       RedisSearchCache(infra.redis, prefix, settings.search_cache_seconds, calls))


Ctx = Annotated[RailContext, Depends(service_context)]
