"""The identity service's Context: what its routes share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from kilat.platform.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.identity.otp import CodePolicy, derive_key
from kilat.services.identity.passwords import PasswordHasher
from kilat.services.identity.service import Authority
from kilat.services.identity.settings import IdentitySettings
from kilat.services.identity.sign_in import LOOPBACK, PhoneSignIn


@dataclass(frozen=True)
class IdentityContext:
    authority: Authority
    phone_sign_in: PhoneSignIn
    settings: IdentitySettings
    infra: Infrastructure  # to announce a ban to every process


def identity_context(runtime: ServiceRuntime) -> IdentityContext:
    settings: IdentitySettings = runtime.own_settings()
    authority = Authority(
        issuer=runtime.issuer,
        verifier=runtime.verifier,
        passwords=PasswordHasher(runtime.settings.password_hash_rounds),
        reset_ttl=timedelta(seconds=runtime.settings.password_reset_ttl_seconds),
        phone_region=settings.default_phone_region,
    )
    return IdentityContext(authority=authority, phone_sign_in=phone_sign_in(runtime, settings),
                           settings=settings, infra=runtime.infra)


def phone_sign_in(runtime: ServiceRuntime, settings: IdentitySettings) -> PhoneSignIn:
    policy = CodePolicy(ttl=timedelta(seconds=settings.otp_ttl_seconds),
                        max_attempts=settings.otp_max_attempts,
                        resend_after=timedelta(seconds=settings.otp_resend_seconds),
                        phone_limit=settings.otp_phone_limit,
                        phone_window=timedelta(seconds=settings.otp_phone_window_seconds))
    return PhoneSignIn(
        region=settings.default_phone_region, policy=policy, key=_code_key(runtime, settings),
        ip_limiter=_ip_limiter(runtime, settings),
        trusted_proxies=LOOPBACK + tuple(runtime.settings.trusted_proxies),
    )


def _code_key(runtime: ServiceRuntime, settings: IdentitySettings) -> bytes:
    """The configured secret, else one derived from the signing key every identity process has."""
    if settings.otp_secret is not None:
        return derive_key(settings.otp_secret.get_secret_value().encode())
    return derive_key(runtime.settings.private_key_path.read_bytes())


def _ip_limiter(runtime: ServiceRuntime, settings: IdentitySettings) -> RateLimiter | None:
    """Shared by every identity process through Redis (distributed), else this process's."""
    limit, window = settings.otp_ip_limit, settings.otp_ip_window_seconds
    if limit <= 0:
        return None
    redis = runtime.infra.redis
    if redis is not None:
        return RedisRateLimiter(redis, limit, window, prefix=f"{settings.redis_key_prefix}:otp")
    return MemoryRateLimiter(limit, window)


Ctx = Annotated[IdentityContext, Depends(service_context)]
