"""review bookings read model, reviews and event tables

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


def upgrade() -> None:
    create_event_tables(op.get_bind())
    op.create_table(
        "review_bookings",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("booking_number", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Uuid, nullable=False),
        sa.Column("runner_id", sa.Uuid),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("booking_id", sa.Uuid, nullable=False),
        sa.Column("booking_number", sa.String(32), nullable=False),
        sa.Column("reviewer_id", sa.Uuid, nullable=False),
        sa.Column("reviewee_id", sa.Uuid, nullable=False),
        sa.Column("reviewer_role", sa.String(10), nullable=False),
        sa.Column("runner_id", sa.Uuid),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("is_hidden", sa.Boolean, nullable=False),
        sa.Column("hidden_reason", sa.Text),
        sa.Column("hidden_at", UTCDateTime()),
        sa.Column("hidden_by", sa.Uuid),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("booking_id", "reviewer_id", name="uq_reviews_booking_reviewer"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_reviews_rating_range"),
    )
    op.create_index("ix_reviews_reviewee_created", "reviews", ["reviewee_id", "created_at"])
    op.create_index("ix_reviews_reviewer_created", "reviews", ["reviewer_id", "created_at"])
    op.create_index("ix_reviews_runner_id", "reviews", ["runner_id"])


def downgrade() -> None:
    op.drop_table("reviews")
    op.drop_table("review_bookings")
    drop_event_tables(op.get_bind())
