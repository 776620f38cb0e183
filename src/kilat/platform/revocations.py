"""Bans take effect at once in every process, not when the banned user's access token expires.

Access tokens are checked locally by each service (``TokenVerifier``), so a ban has to reach
every process: ``announce`` revokes the user in this process, publishes the revocation on the
telemetry fast path (every process hears it) and keeps it in Redis. A process that starts later
learns the bans still in force in ``follow``: from the ban events identity records in the same
transaction as the ban (its outbox puts them on the durable bus, which keeps them for days), and
from Redis as a second copy. It does not serve before it has read them, so neither a Redis flush
nor a restart lifts a ban. Identity also re-announces recent bans from its database at start.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.identity import UserBanned
from kilat.platform.db import after_commit

if TYPE_CHECKING:
    from kilat.platform.runtime import Infrastructure

log = structlog.get_logger(__name__)

SUBJECT = "identity.revocations"
LOAD_ATTEMPTS = 5
REDIS_PREFIX = "kilat:revoked:"
FOLLOWING = "revocations_followed"


def revoke_until(infra: Infrastructure, banned_at: float) -> float:
    """A ban must outlive every access token issued before it."""
    return banned_at + infra.settings.access_token_ttl_seconds + 60


async def announce(infra: Infrastructure, user_id: uuid.UUID, banned_at: float | None = None) -> None:
    until = revoke_until(infra, banned_at if banned_at is not None else time.time())
    infra.verifier.revoke(user_id, until)
    if infra.redis is not None:
        try:
            await infra.redis.set(f"{REDIS_PREFIX}{user_id}", str(until), exat=int(until) + 1)
        except Exception as exc:  # the fast path below and identity's restart cover the gap
            log.warning("ban not stored in redis", user_id=str(user_id), error=str(exc))
    try:
        await infra.bus.publish_fast(SUBJECT, {"user_id": str(user_id), "until": until})
    except Exception as exc:
        log.warning("ban not published", user_id=str(user_id), error=str(exc))


def announce_after_commit(session: AsyncSession, infra: Infrastructure, user_id: uuid.UUID) -> None:
    """Announce the ban once the transaction that records it has committed."""
    after_commit(session, lambda: announce(infra, user_id))


async def follow(infra: Infrastructure) -> None:
    """Hear bans from other processes and load those still in force (once per process).

    Raises when the durable bans cannot be read: a process that does not know them must not serve.
    """
    followed = infra.extras.setdefault(FOLLOWING, set())
    if (id(infra.bus), id(infra.verifier)) in followed:
        return

    async def revoked(payload: dict) -> None:
        infra.verifier.revoke(uuid.UUID(str(payload["user_id"])), float(payload["until"]))

    await infra.bus.subscribe_fast(SUBJECT, revoked)
    followed.add((id(infra.bus), id(infra.verifier)))
    await _load_from_bus(infra)
    await _load_from_redis(infra)


async def _load_from_bus(infra: Infrastructure) -> None:
    window = infra.settings.access_token_ttl_seconds + 60
    since = datetime.now(UTC) - timedelta(seconds=window)
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        try:
            bans = await infra.bus.recent(UserBanned.TYPE, since)
            break
        except Exception as exc:
            if attempt == LOAD_ATTEMPTS:
                raise RuntimeError(f"bans in force could not be read from the event bus: {exc}") from exc
            log.warning("bans not loaded from the event bus, retrying", error=str(exc))
            await asyncio.sleep(0.2 * 2 ** attempt)
    for ban in bans:
        try:
            user_id = ban.payload.user_id  # the event's time is the ban's
        except ValidationError:
            log.warning("ban event without a user id", event_id=str(ban.id))
            continue
        until = revoke_until(infra, ban.time.timestamp())
        if until > time.time():
            infra.verifier.revoke(user_id, until)


async def _load_from_redis(infra: Infrastructure) -> None:
    if infra.redis is None:
        return
    try:
        async for key in infra.redis.scan_iter(match=f"{REDIS_PREFIX}*", count=500):
            name = key.decode() if isinstance(key, bytes) else key
            until = await infra.redis.get(name)
            if until is not None:
                infra.verifier.revoke(uuid.UUID(name.removeprefix(REDIS_PREFIX)), float(until))
    except Exception as exc:
        log.warning("bans not loaded from redis", error=str(exc))
