"""Bans take effect at once in every process, not when the banned user's access token expires.

Access tokens are checked locally by each service (``TokenVerifier``), so a ban has to reach
every process: ``announce`` revokes the user in this process, publishes the revocation on the
telemetry fast path (every process hears it) and keeps it in Redis until no token issued before
the ban can still be valid, so a process started later loads it (``follow``). In the embedded
profile every service shares one verifier; identity also re-announces recent bans from its
database when it starts, which covers a restart and a Redis flush.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from kilat.platform.runtime import Infrastructure

log = structlog.get_logger(__name__)

SUBJECT = "identity.revocations"
REDIS_PREFIX = "kilat:revoked:"
FOLLOWING = "revocations_followed"
_pending: set[asyncio.Task] = set()


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

    def committed(_session) -> None:
        task = asyncio.get_running_loop().create_task(announce(infra, user_id))
        _pending.add(task)
        task.add_done_callback(_pending.discard)

    event.listen(session.sync_session, "after_commit", committed, once=True)


async def follow(infra: Infrastructure) -> None:
    """Hear bans from other processes and load those still in force (once per process)."""
    followed = infra.extras.setdefault(FOLLOWING, set())
    if (id(infra.bus), id(infra.verifier)) in followed:
        return
    followed.add((id(infra.bus), id(infra.verifier)))

    async def revoked(payload: dict) -> None:
        infra.verifier.revoke(uuid.UUID(str(payload["user_id"])), float(payload["until"]))

    await infra.bus.subscribe_fast(SUBJECT, revoked)
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
