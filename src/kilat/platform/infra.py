"""Build the shared infrastructure of one process from settings (embedded or distributed)."""

from __future__ import annotations

from kilat.platform.auth import (
    TokenIssuer,
    TokenVerifier,
    ensure_keypair,
    load_private_key,
    load_public_key,
)
from kilat.platform.events.local import LocalBus
from kilat.platform.runtime import Infrastructure
from kilat.platform.settings import Profile, Settings


def build_infrastructure(settings: Settings) -> Infrastructure:
    settings.check_serving_secrets()
    if settings.profile is Profile.EMBEDDED:
        ensure_keypair(settings.private_key_path, settings.public_key_path)
    verifier = TokenVerifier(load_public_key(settings.public_key_path), issuer=settings.jwt_issuer)
    issuer = None
    if settings.private_key_path.exists():
        issuer = TokenIssuer(
            load_private_key(settings.private_key_path),
            issuer=settings.jwt_issuer,
            access_ttl=settings.access_token_ttl_seconds,
            refresh_ttl=settings.refresh_token_ttl_seconds,
        )
    if settings.profile is Profile.EMBEDDED:
        bus = LocalBus(settings.data_dir / "data" / "bus.db",
                       max_attempts=settings.event_max_deliveries,
                       retry_base_seconds=settings.event_retry_base_seconds,
                       lanes=settings.event_lanes)
        return Infrastructure(settings=settings, bus=bus, verifier=verifier, issuer=issuer)
    import redis.asyncio as aioredis

    from kilat.platform.events.nats import NatsBus

    bus = NatsBus(settings.nats_url, stream=settings.nats_stream,
                  max_attempts=settings.event_max_deliveries,
                  retry_base_seconds=settings.event_retry_base_seconds,
                  subject_prefix=settings.nats_subject_prefix, lanes=settings.event_lanes)
    redis = aioredis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    return Infrastructure(settings=settings, bus=bus, verifier=verifier, issuer=issuer, redis=redis)
