"""Booking settings, environment prefix ``KILAT_BOOKING_`` (e.g. ``KILAT_BOOKING_PER_KM_CENTS``)."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict

from kilat.services.booking.domain import PricingRules

DEFAULTS = PricingRules()


class BookingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_BOOKING_", env_file=".env", extra="ignore")

    base_fare_cents: int = Field(DEFAULTS.base_fare_cents, ge=0)
    per_km_cents: int = Field(DEFAULTS.per_km_cents, ge=0)
    pet_surcharge_cents: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULTS.pet_surcharge_cents))
    crate_surcharge_cents: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULTS.crate_surcharge_cents))
    average_speed_kmh: PositiveFloat = DEFAULTS.average_speed_kmh
    currency: str = Field(DEFAULTS.currency, min_length=3, max_length=3)
    photo_max_bytes: PositiveInt = 5 * 1024 * 1024

    def pricing_rules(self) -> PricingRules:
        """Configured values over the defaults, so a partial surcharge table keeps the rest."""
        return PricingRules(
            base_fare_cents=self.base_fare_cents,
            per_km_cents=self.per_km_cents,
            pet_surcharge_cents={**DEFAULTS.pet_surcharge_cents, **self.pet_surcharge_cents},
            crate_surcharge_cents={**DEFAULTS.crate_surcharge_cents, **self.crate_surcharge_cents},
            average_speed_kmh=self.average_speed_kmh,
            currency=self.currency.upper(),
        )
