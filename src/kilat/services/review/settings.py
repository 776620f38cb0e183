"""Review settings (environment prefix ``KILAT_REVIEW_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReviewSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_REVIEW_", env_file=".env", extra="ignore")

    window_days: int = Field(default=30, ge=0,
                             description="days after completion a review is accepted; 0 = always")
