"""Rail settings (environment prefix ``KILAT_RAIL_``). Money is BDT poisha (1 taka = 100 poisha)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class RailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_RAIL_", env_file=".env", extra="ignore")

    hold_seconds: PositiveInt = 300
    hold_max_extensions: int = Field(2, ge=0, le=10)
    sales_open_days: PositiveInt = 10
    max_seats_per_booking: int = Field(4, ge=1, le=4)
    currency: str = Field("BDT", min_length=3, max_length=3)
    timezone: str = "Asia/Dhaka"
    # OTP before payment: 6 digits, 5 minutes, 5 attempts, 60 s between sends
    otp_seconds: PositiveInt = 300
    otp_max_attempts: PositiveInt = 5
    otp_resend_seconds: int = Field(60, ge=0)
    # /pay waits this long for the payment service's answer before answering 202
    pay_wait_seconds: float = Field(3.0, ge=0, le=30)
    # the seats stay held this long after /pay while the payment service answers
    payment_window_seconds: PositiveInt = 900
    cancellation_fee: int = Field(5000, ge=0, description="poisha, deducted from every refund")
    search_cache_seconds: float = Field(30.0, ge=0)
    sweep_seconds: PositiveFloat = 5.0
    redis_key_prefix: str = "kilat:rail"
    # Ed25519 key that signs ticket QR codes; a development key in the data dir when unset
    qr_private_key_path: Path | None = None
    qr_public_key_path: Path | None = None
