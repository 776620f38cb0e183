"""Parcels settings (environment prefix ``KILAT_PARCELS_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilat.services.parcels.domain import PricingRules

DEFAULTS = PricingRules()


class ParcelsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_PARCELS_", env_file=".env", extra="ignore")

    # pricing (docs/parcels.md "Pricing")
    base_fee_cents: int = Field(DEFAULTS.base_fee_cents, ge=0)
    per_km_cents: int = Field(DEFAULTS.per_km_cents, ge=0)
    per_kg_cents: int = Field(DEFAULTS.per_kg_cents, ge=0)
    included_kg: float = Field(DEFAULTS.included_kg, ge=0)
    road_factor: float = Field(DEFAULTS.road_factor, ge=1)
    volumetric_divisor: PositiveInt = DEFAULTS.volumetric_divisor
    express_multiplier: float = Field(DEFAULTS.express_multiplier, ge=1)
    max_distance_km: PositiveFloat = DEFAULTS.max_distance_km
    max_chargeable_kg: PositiveFloat = DEFAULTS.max_chargeable_kg
    currency: str = Field(DEFAULTS.currency, min_length=3, max_length=3)
    cancel_fee_percent: int = Field(20, ge=0, le=100)
    standard_hours: PositiveFloat = 24.0
    express_hours: PositiveFloat = 4.0

    # payment: how long /pay waits for the payment service's answer before a 202
    payment_wait_seconds: float = Field(3.0, ge=0, le=30)

    # dispatch and live location
    dispatch_radius_km: PositiveFloat = 10.0
    average_speed_kmh: PositiveFloat = 25.0  # ETA: road distance at this speed
    dispatch_offer_count: PositiveInt = 10
    location_index: Literal["auto", "memory", "redis"] = "auto"
    redis_key_prefix: str = "kilat:parcels"
    stale_after_seconds: PositiveFloat = 120.0
    courier_cache_seconds: float = Field(2.0, ge=0, le=60)  # status and rooms, for fixes
    telemetry_flush_seconds: PositiveFloat = 1.0
    telemetry_retention_days: PositiveInt = 30
    partitions_ahead_days: PositiveInt = 3
    photo_max_bytes: PositiveInt = 5 * 1024 * 1024

    # live tracking
    tracking_session_seconds: PositiveFloat = 3600.0
    socket_queue_size: PositiveInt = 256

    # webhooks
    webhook_timeout_seconds: PositiveFloat = 5.0
    webhook_max_attempts: PositiveInt = 8
    webhook_backoff_seconds: PositiveFloat = 10.0
    webhook_max_backoff_seconds: PositiveFloat = 3600.0
    webhook_max_failures: PositiveInt = 10
    webhook_poll_seconds: PositiveFloat = 1.0

    # background jobs
    jobs_poll_seconds: PositiveFloat = 1.0
    job_max_attempts: PositiveInt = 5
    report_hour_utc: int = Field(1, ge=0, le=23)

    def pricing_rules(self) -> PricingRules:
        return PricingRules(
            base_fee_cents=self.base_fee_cents, per_km_cents=self.per_km_cents,
            per_kg_cents=self.per_kg_cents, included_kg=self.included_kg,
            road_factor=self.road_factor, volumetric_divisor=self.volumetric_divisor,
            express_multiplier=self.express_multiplier, max_distance_km=self.max_distance_km,
            max_chargeable_kg=self.max_chargeable_kg, currency=self.currency.upper())
