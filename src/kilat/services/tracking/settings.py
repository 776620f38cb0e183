"""Tracking settings (environment prefix ``KILAT_TRACKING_``), e.g. ``KILAT_TRACKING_RETENTION_DAYS``."""

from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt
from pydantic_settings import BaseSettings, SettingsConfigDict


class TrackingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KILAT_TRACKING_", env_file=".env", extra="ignore")

    share_ttl_hours: PositiveFloat = 24.0
    share_max_ttl_hours: PositiveFloat = 7 * 24.0
    max_active_shares: PositiveInt = 20

    waypoint_flush_seconds: PositiveFloat = 0.5
    waypoint_batch_size: PositiveInt = 500
    waypoint_buffer_limit: PositiveInt = 100_000
    waypoint_default_limit: PositiveInt = 500
    route_max_points: int = Field(10_000, ge=2)
    retention_days: PositiveInt = 30
    partitions_ahead_days: PositiveInt = 2
    maintenance_interval_seconds: PositiveFloat = 3600.0
    updated_event_interval_seconds: float = Field(30.0, ge=0)
    updated_events_per_batch: PositiveInt = 100

    trip_refresh_seconds: PositiveFloat = 60.0
    trip_miss_ttl_seconds: PositiveFloat = 2.0  # bookings only: a runner's "no trip" lasts until one starts
    ping_queue_limit: PositiveInt = 50_000  # pings waiting for the filter; the oldest go first

    socket_queue_size: PositiveInt = 256
    socket_send_timeout_seconds: PositiveFloat = 10.0
    socket_max_message_bytes: PositiveInt = 4096
    socket_heartbeat_seconds: float = Field(0.0, ge=0)
    socket_locations_per_second: PositiveFloat = 5.0
    socket_location_burst: PositiveInt = 30
