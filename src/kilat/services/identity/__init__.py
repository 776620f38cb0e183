"""Identity: accounts, sessions and tokens, password resets, runner applications, referrals."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kilat.platform import revocations
from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.services.identity.api import routers
from kilat.services.identity.context import identity_context
from kilat.services.identity.handlers import handlers
from kilat.services.identity.models import metadata
from kilat.services.identity.service import recent_bans
from kilat.services.identity.settings import IdentitySettings


async def _announce_recent_bans(runtime: ServiceRuntime) -> None:
    """Bans whose users may still hold unexpired access tokens, announced again: after a restart
    (embedded: the only copy was in memory) or a Redis flush, they still take effect."""
    ttl = runtime.settings.access_token_ttl_seconds + 60
    async with runtime.database.session(write=False) as session:
        bans = await recent_bans(session, datetime.now(UTC) - timedelta(seconds=ttl))
    for user_id, banned_at in bans:
        await revocations.announce(runtime.infra, user_id, banned_at.timestamp())


descriptor = ServiceDescriptor(
    name="identity",
    port=8004,
    title="Kilat identity",
    routers=routers,
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    on_start=[_announce_recent_bans],
    signs_tokens=True,
    settings=IdentitySettings,
    context=identity_context,
)
