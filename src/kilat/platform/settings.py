"""One settings class for every command and service (environment prefix ``KILAT_``)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict


class Profile(StrEnum):
    EMBEDDED = "embedded"
    DISTRIBUTED = "distributed"


SERVICE_PORTS: dict[str, int] = {
    "gateway": 8080,
    "booking": 8001,
    "payment": 8002,
    "runner": 8003,
    "identity": 8004,
    "tracking": 8005,
    "notification": 8006,
    "review": 8007,
    "rides": 8011,
    "parcels": 8012,
    "rail": 8013,
}

DEFAULT_CORS_ORIGINS = [
    "http://localhost:3000",
    "http://localhost:3001",
    "http://localhost:3002",
    "http://localhost:8080",
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_", env_file=".env", extra="ignore")

    profile: Profile = Profile.EMBEDDED
    data_dir: Path = Path(".kilat")
    host: str = "127.0.0.1"
    port: int = 8080

    # distributed profile: one PostgreSQL database per service, named kilat_<service>
    postgres_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432"
    database_urls: dict[str, str] = Field(default_factory=dict)
    # PostgreSQL connections per service process: the pool, plus overflow under bursts. Keep
    # (pool + overflow) × processes under the server's max_connections (100 by default).
    db_pool_size: int = Field(10, ge=1)
    db_max_overflow: int = Field(2, ge=0)
    redis_url: str = "redis://127.0.0.1:6379/0"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "KILAT"
    nats_subject_prefix: str = "kilat"
    service_urls: dict[str, str] = Field(default_factory=dict)
    # distributed profile: ports that override SERVICE_PORTS (e.g. {"booking": 9001, "gateway": 9080})
    service_ports: dict[str, int] = Field(default_factory=dict)

    jwt_private_key_path: Path | None = None
    jwt_public_key_path: Path | None = None
    jwt_issuer: str = "kilat"
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    password_reset_ttl_seconds: int = 3600
    password_hash_rounds: int = Field(12, ge=4, le=16)
    allow_dev_secrets: bool = False

    cors_origins: list[str] = Field(default_factory=lambda: list(DEFAULT_CORS_ORIGINS))
    rate_limit_per_minute: int = 100
    # peers whose X-Forwarded-For the gateway believes (CIDRs); the rate limit counts per client
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    # request bodies, refused with 413 before they are read past the limit
    max_body_bytes: int = Field(1024 * 1024, ge=1)
    max_upload_bytes: int = Field(8 * 1024 * 1024, ge=1)
    health_probe_timeout_seconds: float = 3.0
    proxy_timeout_seconds: float = 30.0

    event_max_deliveries: int = 5
    # events of different subjects one consumer applies at once (one subject: always in order)
    event_lanes: int = Field(8, ge=1, le=64)
    event_retry_base_seconds: float = 0.5
    outbox_poll_seconds: float = 0.5

    log_level: str = "INFO"
    log_json: bool = True

    def check_serving_secrets(self) -> None:
        """Serving the distributed profile with development keys is refused."""
        if self.profile is Profile.DISTRIBUTED and not self.allow_dev_secrets:
            if self.jwt_private_key_path is None or self.jwt_public_key_path is None:
                raise ValueError(
                    "the distributed profile needs KILAT_JWT_PRIVATE_KEY_PATH and "
                    "KILAT_JWT_PUBLIC_KEY_PATH (create them with `kilat keys generate`); "
                    "development keys are refused"
                )

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def private_key_path(self) -> Path:
        return self.jwt_private_key_path or self.keys_dir / "jwt-ed25519.pem"

    @property
    def public_key_path(self) -> Path:
        return self.jwt_public_key_path or self.keys_dir / "jwt-ed25519.pub.pem"

    def database_url(self, service: str) -> str:
        if service in self.database_urls:
            return self.database_urls[service]
        if self.profile is Profile.DISTRIBUTED:
            return f"{self.postgres_url.rstrip('/')}/kilat_{service}"
        return f"sqlite+aiosqlite:///{(self.data_dir / 'data' / f'{service}.db').resolve()}"

    def service_port(self, service: str) -> int:
        """KILAT_SERVICE_PORTS, else the seed port; the gateway's default is KILAT_PORT."""
        if service in self.service_ports:
            return self.service_ports[service]
        return self.port if service == "gateway" else SERVICE_PORTS[service]

    def service_url(self, service: str) -> str:
        return self.service_urls.get(service, f"http://127.0.0.1:{self.service_port(service)}")


@lru_cache
def get_settings() -> Settings:
    return Settings()
