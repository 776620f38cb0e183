"""Parcels settings (environment prefix ``KILAT_PARCELS_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ParcelsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_PARCELS_", env_file=".env", extra="ignore")
