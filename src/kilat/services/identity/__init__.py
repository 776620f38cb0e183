"""Identity: accounts, sessions and tokens, password resets, runner applications, referrals."""

from datetime import timedelta
from pathlib import Path

from kilat.platform.runtime import ServiceDescriptor, ServiceRuntime
from kilat.services.identity.api import routers
from kilat.services.identity.handlers import handlers
from kilat.services.identity.models import metadata
from kilat.services.identity.passwords import PasswordHasher
from kilat.services.identity.service import Authority


async def _install_authority(runtime: ServiceRuntime) -> None:
    rounds = runtime.settings.password_hash_rounds
    runtime.state["authority"] = Authority(
        issuer=runtime.issuer,
        verifier=runtime.verifier,
        passwords=PasswordHasher(rounds),
        reset_ttl=timedelta(seconds=runtime.settings.password_reset_ttl_seconds),
    )


descriptor = ServiceDescriptor(
    name="identity",
    port=8004,
    title="Kilat identity",
    routers=routers,
    metadata=metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    handlers=handlers,
    on_start=[_install_authority],
    signs_tokens=True,
)
