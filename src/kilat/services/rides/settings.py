"""Rides settings (environment prefix ``KILAT_RIDES_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class RidesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_RIDES_", env_file=".env", extra="ignore")
