"""Identity settings (environment prefix ``KILAT_IDENTITY_``): phone numbers and sign-in codes."""

from __future__ import annotations

import phonenumbers
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_IDENTITY_", env_file=".env", extra="ignore")

    # region of numbers written without +: 0812... is read as +62812... with "ID"
    default_phone_region: str = "ID"

    otp_ttl_seconds: int = Field(300, ge=30, le=3600)
    otp_max_attempts: int = Field(5, ge=1, le=20)
    otp_resend_seconds: int = Field(60, ge=0, le=3600)
    # codes sent to one number (counted in the codes table), and requested from one client
    # address (the kernel's rate limiter), per window
    otp_phone_limit: int = Field(5, ge=0)
    otp_phone_window_seconds: int = Field(3600, ge=1)
    otp_ip_limit: int = Field(60, ge=0)
    otp_ip_window_seconds: int = Field(600, ge=1)
    # HMAC key of stored codes; unset, one is derived from the token signing key
    otp_secret: SecretStr | None = None
    # the per-address counters in Redis (distributed profile)
    redis_key_prefix: str = "kilat:identity"

    @field_validator("default_phone_region")
    @classmethod
    def _known_region(cls, region: str) -> str:
        region = region.upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {region!r}; use an ISO 3166 code such as ID")
        return region
