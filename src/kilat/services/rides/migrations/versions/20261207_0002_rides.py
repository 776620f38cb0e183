"""rides: drivers, requests, offers, matches (one active per driver), rides, fixes, frames

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.models import UTCDateTime

revision = "0002"
down_revision = "0001"

ACTIVE = sa.text("active")
OPEN = sa.text("open")


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=False)]


def _points() -> list[sa.Column]:
    return [sa.Column(name, sa.Float, nullable=False)
            for name in ("pickup_lat", "pickup_lng", "destination_lat", "destination_lng")]


def upgrade() -> None:
    op.create_table(
        "ride_drivers",
        sa.Column("user_id", sa.Uuid, primary_key=True),
        sa.Column("vehicle_type", sa.String(20), nullable=False),
        sa.Column("vehicle_plate", sa.String(20), nullable=False),
        sa.Column("available", sa.Boolean, nullable=False),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("beacon_at", UTCDateTime()),
        *_timestamps(),
    )
    op.create_table(
        "ride_requests",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("passenger_id", sa.Uuid, nullable=False),
        *_points(),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("driver_id", sa.Uuid),
        sa.Column("match_id", sa.Uuid),
        sa.Column("ride_id", sa.Uuid),
        sa.Column("deadline_at", UTCDateTime()),
        sa.Column("search_expires_at", UTCDateTime(), nullable=False),
        sa.Column("matched_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("cancelled_by", sa.String(20)),
        sa.Column("end_reason", sa.String(200)),
        *_timestamps(),
    )
    op.create_index("uq_ride_requests_open_passenger", "ride_requests", ["passenger_id"],
                    unique=True, postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("ix_ride_requests_deadline", "ride_requests", ["deadline_at"])
    op.create_table(
        "ride_offers",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("request_id", sa.Uuid, nullable=False),
        sa.Column("driver_id", sa.Uuid, nullable=False),
        sa.Column("passenger_id", sa.Uuid, nullable=False),
        sa.Column("distance_km", sa.Float, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("responded_at", UTCDateTime()),
        *_timestamps(),
        sa.UniqueConstraint("request_id", "driver_id", name="uq_ride_offers_request_driver"),
    )
    op.create_index("ix_ride_offers_status_expires", "ride_offers", ["status", "expires_at"])
    op.create_index("ix_ride_offers_driver_status", "ride_offers", ["driver_id", "status"])
    op.create_table(
        "ride_matches",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("request_id", sa.Uuid, nullable=False),
        sa.Column("offer_id", sa.Uuid, nullable=False),
        sa.Column("driver_id", sa.Uuid, nullable=False),
        sa.Column("passenger_id", sa.Uuid, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("released_at", UTCDateTime()),
        *_timestamps(),
        sa.UniqueConstraint("offer_id", name="uq_ride_matches_offer_id"),
    )
    # the atomic claim: one active match per driver and per request, on both engines
    op.create_index("uq_ride_matches_active_driver", "ride_matches", ["driver_id"], unique=True,
                    postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_index("uq_ride_matches_active_request", "ride_matches", ["request_id"],
                    unique=True, postgresql_where=ACTIVE, sqlite_where=ACTIVE)
    op.create_table(
        "rides",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("match_id", sa.Uuid, nullable=False),
        sa.Column("request_id", sa.Uuid, nullable=False),
        sa.Column("passenger_id", sa.Uuid, nullable=False),
        sa.Column("driver_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        *_points(),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("arrived_at", UTCDateTime()),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("cancelled_at", UTCDateTime()),
        sa.Column("cancelled_by", sa.String(20)),
        sa.Column("distance_m", sa.Float, nullable=False),
        sa.Column("anchor_lat", sa.Float),
        sa.Column("anchor_lng", sa.Float),
        sa.Column("anchor_at", UTCDateTime()),
        sa.Column("last_fix_at", UTCDateTime()),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("fare", sa.BigInteger),
        sa.Column("adjustment_factor", sa.Numeric(5, 4)),
        sa.Column("adjusted_fare", sa.BigInteger),
        sa.Column("admin_fee", sa.BigInteger),
        sa.Column("driver_payout", sa.BigInteger),
        sa.Column("payment_status", sa.String(20), nullable=False),
        sa.Column("payment_attempt", sa.Integer, nullable=False),
        sa.Column("charge_id", sa.Uuid),
        sa.Column("payment_error", sa.String(500)),
        sa.Column("paid_at", UTCDateTime()),
        *_timestamps(),
        sa.UniqueConstraint("match_id", name="uq_rides_match_id"),
        sa.UniqueConstraint("request_id", name="uq_rides_request_id"),
        sa.UniqueConstraint("charge_id", name="uq_rides_charge_id"),
        sa.CheckConstraint("admin_fee IS NULL OR admin_fee + driver_payout = adjusted_fare",
                           name="ck_rides_fee_split"),
    )
    op.create_index("ix_rides_passenger_created", "rides", ["passenger_id", "created_at"])
    op.create_index("ix_rides_driver_created", "rides", ["driver_id", "created_at"])
    op.create_table(
        "ride_fixes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("ride_id", sa.Uuid, nullable=False),
        sa.Column("party", sa.String(10), nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("segment_m", sa.Float, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("ride_id", "party", "recorded_at", name="uq_ride_fixes_dedup"),
    )
    op.create_table(
        "ride_frames",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_ride_frames_user_seq", "ride_frames", ["user_id", "seq"])
    op.create_index("ix_ride_frames_created", "ride_frames", ["created_at"])


def downgrade() -> None:
    for table in ("ride_frames", "ride_fixes", "rides", "ride_matches", "ride_offers",
                  "ride_requests", "ride_drivers"):
        op.drop_table(table)
