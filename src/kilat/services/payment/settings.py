"""Payment settings (environment prefix ``KILAT_PAYMENT_``), beside the platform's ``Settings``."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PaymentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_PAYMENT_", env_file=".env", extra="ignore")

    currency: str = "MYR"
    platform_fee_percent: Decimal = Field(Decimal(15), ge=0, le=100)
    cash_out_fee_cents: int = Field(50, ge=0)
    cash_out_rail_delay_seconds: float = Field(30.0, ge=0)
    referral_credit_cents: int = Field(500, ge=0)
    authorization_expiry_days: float = Field(7.0, gt=0)
    booking_lookup_wait_seconds: float = Field(2.0, ge=0)
    worker_poll_seconds: float = Field(1.0, gt=0)
    sweep_interval_seconds: float = Field(30.0, gt=0)
    action_retry_base_seconds: float = Field(2.0, gt=0)
    stale_pending_seconds: float = Field(120.0, gt=0)
    # a vertical's charge or refund the processor keeps failing transiently is given up after
    # this many tries (about 13 minutes with the default backoff), unless the processor took it
    charge_max_attempts: int = Field(10, ge=1, le=100)
    # the balance currency of a payee role when the payee has earned nothing yet
    payee_currencies: dict[str, str] = {"driver": "IDR", "courier": "MYR"}
    # cash-out fee per currency other than ``currency`` (whose fee is ``cash_out_fee_cents``),
    # in that currency's minor units; none when not listed
    cash_out_fees: dict[str, int] = {}
