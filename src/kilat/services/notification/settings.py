"""Notification settings (environment prefix ``KILAT_NOTIFICATION_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROVIDER_SCHEMES = ("webhook+http://", "webhook+https://", "log://", "smtp://")


class NotificationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_NOTIFICATION_", env_file=".env",
                                      extra="ignore")

    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_use_tls: bool = False
    smtp_from: str = "Kilat Pet Runner <no-reply@kilat.local>"
    smtp_timeout_seconds: float = 10.0

    push_providers: list[str] = Field(default_factory=lambda: ["log://"])
    sms_providers: list[str] = Field(default_factory=lambda: ["log://"])
    email_providers: list[str] = Field(default_factory=list)
    webhook_timeout_seconds: float = 5.0
    # the development sink (log://): messages an admin can read back, newest first
    sink_keep: int = Field(default=1000, ge=1, le=100_000)
    sink_max_age_seconds: int = Field(default=86_400, ge=60)

    max_retries: int = Field(default=3, ge=0, le=20)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    worker_batch_size: int = Field(default=50, ge=1, le=1000)
    claim_lease_seconds: float = Field(default=120.0, gt=0)

    default_locale: str = "en"
    default_timezone: str = "UTC"

    @field_validator("push_providers", "sms_providers", "email_providers")
    @classmethod
    def _known_schemes(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(PROVIDER_SCHEMES):
                raise ValueError(f"unsupported provider URL {url!r}; use one of {PROVIDER_SCHEMES}")
        return urls

    @model_validator(mode="after")
    def _email_default(self) -> NotificationSettings:
        if not self.email_providers:
            self.email_providers = ["smtp://"] if self.smtp_host else ["log://"]
        return self
