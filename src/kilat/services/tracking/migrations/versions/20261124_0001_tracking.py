"""trips, waypoints (partitioned by day on PostgreSQL), chat, share links and event tables

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.events.tables import create_event_tables
from kilat.platform.migrations import is_postgres
from kilat.platform.models import UTCDateTime

revision = "0001"
down_revision = None

ACTIVE_ONLY = sa.text("status = 'active'")


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=False)]


def _trips() -> None:
    op.create_table(
        "trips",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("booking_id", sa.Uuid, nullable=False, index=True),
        sa.Column("booking_number", sa.String(40)),
        sa.Column("owner_id", sa.Uuid, nullable=False, index=True),
        sa.Column("runner_id", sa.Uuid, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("booking_status", sa.String(32), nullable=False),
        sa.Column("end_reason", sa.String(32)),
        sa.Column("accepted_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("cancelled_at", UTCDateTime()),
        sa.Column("total_distance_km", sa.Float),
        sa.Column("last_latitude", sa.Float),
        sa.Column("last_longitude", sa.Float),
        sa.Column("last_speed_kmh", sa.Float),
        sa.Column("last_heading_degrees", sa.Float),
        sa.Column("last_recorded_at", UTCDateTime()),
        sa.Column("last_update_event_at", UTCDateTime()),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("booking_id", "runner_id", "accepted_at", name="uq_trips_acceptance"),
    )
    op.create_index("uq_trips_active_booking", "trips", ["booking_id"], unique=True,
                    sqlite_where=ACTIVE_ONLY, postgresql_where=ACTIVE_ONLY)


WAYPOINT_COLUMNS = """
    booking_id uuid NOT NULL,
    recorded_at timestamp with time zone NOT NULL,
    runner_id uuid NOT NULL,
    id uuid NOT NULL,
    trip_id uuid NOT NULL,
    latitude double precision NOT NULL,
    longitude double precision NOT NULL,
    speed_kmh double precision,
    heading_degrees double precision,
    accuracy_m double precision,
    CONSTRAINT pk_trip_waypoints PRIMARY KEY (booking_id, recorded_at, runner_id)
"""


def _waypoints() -> None:
    if is_postgres():
        # day partitions are created ahead and dropped after the retention period by the service
        op.execute(f"CREATE TABLE trip_waypoints ({WAYPOINT_COLUMNS}) PARTITION BY RANGE (recorded_at)")
        op.execute("CREATE INDEX ix_trip_waypoints_trip ON trip_waypoints (trip_id, recorded_at)")
        return
    op.create_table(
        "trip_waypoints",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("recorded_at", UTCDateTime(), primary_key=True),
        sa.Column("runner_id", sa.Uuid, primary_key=True),
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("trip_id", sa.Uuid, nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("speed_kmh", sa.Float),
        sa.Column("heading_degrees", sa.Float),
        sa.Column("accuracy_m", sa.Float),
    )
    op.create_index("ix_trip_waypoints_trip", "trip_waypoints", ["trip_id", "recorded_at"])


def _chat_and_shares() -> None:
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("booking_id", sa.Uuid, nullable=False),
        sa.Column("trip_id", sa.Uuid, nullable=False),
        sa.Column("sender_id", sa.Uuid, nullable=False),
        sa.Column("sender_role", sa.String(16), nullable=False),
        sa.Column("recipient_id", sa.Uuid),
        sa.Column("message_type", sa.String(16), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_chat_messages_booking", "chat_messages", ["booking_id", "created_at"])
    op.create_table(
        "chat_reads",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, primary_key=True),
        sa.Column("last_read_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "shared_trips",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("booking_id", sa.Uuid, nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.Uuid, nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoked_by", sa.Uuid),
        *_timestamps(),
    )


def upgrade() -> None:
    create_event_tables(op.get_bind())
    _trips()
    _waypoints()
    _chat_and_shares()


def downgrade() -> None:
    for table in ("shared_trips", "chat_reads", "chat_messages", "trip_waypoints", "trips"):
        op.drop_table(table)
