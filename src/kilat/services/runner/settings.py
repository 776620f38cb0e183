"""Runner settings that the shared Settings class does not carry (environment prefix KILAT_RUNNER_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilat.platform.geo import GpsPolicy

GPS = GpsPolicy()


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_RUNNER_", env_file=".env", extra="ignore")

    location_index: Literal["auto", "memory", "redis"] = "auto"
    redis_key_prefix: str = "kilat:runner:geo"
    memory_grid_degrees: float = Field(0.01, gt=0, le=1)

    stale_after_seconds: float = Field(120.0, gt=0)
    location_flush_seconds: float = Field(30.0, gt=0)
    purge_interval_seconds: float = Field(15.0, gt=0)
    # how often the live index is checked for lost data (Redis flushed or restarted empty) and
    # rebuilt from the database
    rebuild_check_seconds: float = Field(5.0, gt=0)
    # an online runner without a job and without a location for this long is signed off
    # (runner.offline, reason no_location_updates); 0 keeps silent runners online
    offline_after_seconds: float = Field(900.0, ge=0)
    offline_sweep_seconds: float = Field(60.0, gt=0)

    # the one GPS policy: every fix (HTTP ping or tracking socket frame) is judged here
    gps_max_accuracy_m: float = Field(GPS.max_accuracy_m, gt=0)
    gps_max_speed_kmh: float = Field(GPS.max_speed_kmh, gt=0)
    gps_jitter_m: float = Field(GPS.jitter_m, ge=0)
    gps_stationary_speed_kmh: float = Field(GPS.stationary_speed_kmh, ge=0)
    gps_max_clock_skew_seconds: float = Field(30.0, ge=0)

    nearby_max_radius_km: float = Field(50.0, gt=0)
    nearby_max_candidates: int = Field(2000, gt=0)
    candidate_cache_seconds: float = Field(5.0, ge=0)
    candidate_cache_size: int = Field(50_000, gt=0)

    def gps_policy(self) -> GpsPolicy:
        return GpsPolicy(max_accuracy_m=self.gps_max_accuracy_m,
                         max_speed_kmh=self.gps_max_speed_kmh, jitter_m=self.gps_jitter_m,
                         stationary_speed_kmh=self.gps_stationary_speed_kmh)
