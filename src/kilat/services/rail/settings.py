"""Rail settings (environment prefix ``KILAT_RAIL_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class RailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_RAIL_", env_file=".env", extra="ignore")
