"""Rides settings (environment prefix ``KILAT_RIDES_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RidesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_RIDES_", env_file=".env", extra="ignore")

    # matching
    match_radius_km: float = Field(1.0, gt=0, le=50, description="drivers offered a request")
    offer_batch: int = Field(3, ge=1, le=50, description="offers pending at once per request")
    offer_ttl_seconds: float = Field(30.0, gt=0, description="an offer lapses after this long")
    confirm_ttl_seconds: float = Field(
        120.0, gt=0, description="a found driver waits this long for the passenger's confirm")
    search_timeout_seconds: float = Field(
        300.0, gt=0, description="a request nobody accepts expires (no driver) after this long")
    deadline_poll_seconds: float = Field(0.5, gt=0, description="deadline queue wake-up")

    # live driver positions
    location_index: Literal["auto", "memory", "redis"] = "auto"
    redis_key_prefix: str | None = Field(
        None,
        description="Redis keys of the live index; default '<KILAT_NATS_SUBJECT_PREFIX>:rides'")
    beacon_stale_seconds: float = Field(
        120.0, gt=0, description="a driver whose beacon is older drops out of matching")
    purge_interval_seconds: float = Field(15.0, gt=0)

    # the ride
    start_radius_m: float = Field(100.0, gt=0, description="the driver starts this near the pickup")
    fare_per_km: int = Field(3000, gt=0, description="IDR per completed km of the driver's track")
    admin_fee_percent: int = Field(5, ge=0, le=100, description="platform fee of the adjusted fare")
    currency: str = "IDR"
    jitter_m: float = Field(10.0, ge=0, description="shorter moves are GPS noise, carried over")
    max_speed_kmh: float = Field(160.0, gt=0, description="a faster segment is an implausible fix")
    clock_skew_seconds: float = Field(
        5.0, ge=0, description="a fix's recorded_at may run this far ahead of the server")
    payment_wait_seconds: float = Field(
        3.0, ge=0, description="how long POST /payment waits for the payment service's answer")

    # live socket
    socket_heartbeat_seconds: float = Field(20.0, gt=0)
    socket_queue_size: int = Field(256, ge=8)
    socket_max_message_bytes: int = Field(8192, ge=256)
    socket_requests_per_second: float = Field(10.0, gt=0, description="client frames, sustained")
    socket_request_burst: int = Field(40, ge=1, description="client frames at once")
    replay_limit: int = Field(500, ge=1, description="frames replayed at most on reconnect")
    frame_retention_hours: float = Field(24.0, gt=0)

    def key_prefix(self, namespace: str) -> str:
        return self.redis_key_prefix or f"{namespace}:rides"
