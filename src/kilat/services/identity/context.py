"""The identity service's Context: what its routes share for the life of a process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends

from kilat.platform.runtime import Infrastructure, ServiceRuntime, service_context
from kilat.services.identity.passwords import PasswordHasher
from kilat.services.identity.service import Authority


@dataclass(frozen=True)
class IdentityContext:
    authority: Authority
    infra: Infrastructure  # to announce a ban to every process


def identity_context(runtime: ServiceRuntime) -> IdentityContext:
    authority = Authority(
        issuer=runtime.issuer,
        verifier=runtime.verifier,
        passwords=PasswordHasher(runtime.settings.password_hash_rounds),
        reset_ttl=timedelta(seconds=runtime.settings.password_reset_ttl_seconds),
    )
    return IdentityContext(authority=authority, infra=runtime.infra)


Ctx = Annotated[IdentityContext, Depends(service_context)]
