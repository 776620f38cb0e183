"""contacts, booking refs, preferences, notifications, deliveries and event tables

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.events.tables import create_event_tables, drop_event_tables
from kilat.platform.models import UTCDateTime

revision = "0001"
down_revision = None


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=False)]


def upgrade() -> None:
    create_event_tables(op.get_bind())
    op.create_table(
        "contacts",
        sa.Column("user_id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.String(255)),
        sa.Column("phone", sa.String(32)),
        sa.Column("full_name", sa.String(255)),
        sa.Column("role", sa.String(20)),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("is_banned", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "booking_refs",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("booking_number", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Uuid),
        sa.Column("runner_id", sa.Uuid),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("enable_push", sa.Boolean, nullable=False),
        sa.Column("enable_sms", sa.Boolean, nullable=False),
        sa.Column("enable_email", sa.Boolean, nullable=False),
        sa.Column("fcm_token", sa.String(512)),
        sa.Column("phone_number", sa.String(32)),
        sa.Column("email", sa.String(255)),
        sa.Column("quiet_hours_start", sa.Time),
        sa.Column("quiet_hours_end", sa.Time),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("user_id", name="uq_notification_preferences_user_id"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("booking_id", sa.Uuid),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("event_id", sa.Uuid),
        sa.Column("fact_key", sa.String(200), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("is_read", sa.Boolean, nullable=False),
        sa.Column("read_at", UTCDateTime()),
        sa.Column("channels_sent", sa.JSON, nullable=False),
        sa.Column("channels_failed", sa.JSON, nullable=False),
        sa.Column("metadata", sa.JSON, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("user_id", "fact_key", name="uq_notifications_user_fact"),
    )
    op.create_index("ix_notifications_user_created", "notifications", ["user_id", "created_at"])
    op.create_index("ix_notifications_booking_id", "notifications", ["booking_id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("notification_id", sa.Uuid,
                  sa.ForeignKey("notifications.id", ondelete="CASCADE",
                                name="fk_notification_deliveries_notification_id_notifications"),
                  nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("address", sa.String(512), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sensitive", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("deferred_until", UTCDateTime()),
        sa.Column("provider", sa.String(255)),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("failed_at", UTCDateTime()),
        *_timestamps(),
    )
    op.create_index("ix_notification_deliveries_due", "notification_deliveries",
                    ["status", "next_attempt_at"])
    op.create_index("ix_notification_deliveries_notification_id", "notification_deliveries",
                    ["notification_id"])
    op.create_index("ix_notification_deliveries_user_id", "notification_deliveries", ["user_id"])


def downgrade() -> None:
    op.drop_table("notification_deliveries")
    op.drop_table("notifications")
    op.drop_table("notification_preferences")
    op.drop_table("booking_refs")
    op.drop_table("contacts")
    drop_event_tables(op.get_bind())
