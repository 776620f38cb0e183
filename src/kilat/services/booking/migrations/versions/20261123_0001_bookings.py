"""bookings, status history, decline reasons, photos, pets and the event tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kilat.platform.events.tables import create_event_tables, drop_event_tables
from kilat.platform.models import UTCDateTime

revision = "0001"
down_revision = None

DOCUMENT = sa.JSON().with_variant(JSONB(), "postgresql")


def _entity() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    create_event_tables(op.get_bind())
    op.create_table(
        "bookings",
        *_entity(),
        sa.Column("booking_number", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Uuid, nullable=False),
        sa.Column("runner_id", sa.Uuid, nullable=True),
        sa.Column("pet_id", sa.Uuid, nullable=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("pet_spec", DOCUMENT, nullable=False),
        sa.Column("crate_requirement", DOCUMENT, nullable=False),
        sa.Column("pickup_address", DOCUMENT, nullable=False),
        sa.Column("dropoff_address", DOCUMENT, nullable=False),
        sa.Column("route_spec", DOCUMENT, nullable=True),
        sa.Column("pickup_lat", sa.Float, nullable=False),
        sa.Column("pickup_lng", sa.Float, nullable=False),
        sa.Column("dropoff_lat", sa.Float, nullable=False),
        sa.Column("dropoff_lng", sa.Float, nullable=False),
        sa.Column("estimated_price_cents", sa.BigInteger, nullable=False),
        sa.Column("final_price_cents", sa.BigInteger, nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("scheduled_at", UTCDateTime(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("picked_up_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_by", sa.Uuid, nullable=True),
        sa.Column("cancel_note", sa.String(500), nullable=True),
        sa.Column("notes", sa.String(1000), nullable=True),
        sa.Column("rebooked_from_id", sa.Uuid, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("booking_number", name="uq_bookings_booking_number"),
    )
    op.create_index("ix_bookings_owner_id", "bookings", ["owner_id"])
    op.create_index("ix_bookings_runner_id", "bookings", ["runner_id"])
    op.create_index("ix_bookings_status_created_at", "bookings", ["status", "created_at"])
    op.create_table(
        "booking_status_history",
        *_entity(),
        sa.Column("booking_id", sa.Uuid, sa.ForeignKey("bookings.id"), nullable=False),
        sa.Column("from_status", sa.String(30), nullable=True),
        sa.Column("to_status", sa.String(30), nullable=False),
        sa.Column("changed_by", sa.Uuid, nullable=True),
        sa.Column("changed_by_role", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.UniqueConstraint("booking_id", "sequence",
                            name="uq_booking_status_history_booking_id"),
    )
    op.create_index("ix_booking_status_history_booking_id", "booking_status_history",
                    ["booking_id"])
    op.create_table(
        "booking_decline_reasons",
        *_entity(),
        sa.Column("booking_id", sa.Uuid, sa.ForeignKey("bookings.id"), nullable=False),
        sa.Column("runner_id", sa.Uuid, nullable=False),
        sa.Column("reason", sa.String(30), nullable=False),
    )
    op.create_index("ix_booking_decline_reasons_booking_id", "booking_decline_reasons",
                    ["booking_id"])
    op.create_index("ix_booking_decline_reasons_runner_id", "booking_decline_reasons",
                    ["runner_id"])
    op.create_table(
        "booking_photos",
        *_entity(),
        sa.Column("booking_id", sa.Uuid, sa.ForeignKey("bookings.id"), nullable=False),
        sa.Column("uploaded_by", sa.Uuid, nullable=False),
        sa.Column("uploaded_by_role", sa.String(20), nullable=False),
        sa.Column("photo_type", sa.String(20), nullable=False),
        sa.Column("photo_url", sa.String(2048), nullable=False),
        sa.Column("caption", sa.String(500), nullable=True),
        sa.Column("storage_key", sa.String(512), nullable=True),
        sa.Column("content_type", sa.String(100), nullable=True),
        sa.Column("size_bytes", sa.Integer, nullable=True),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("storage_key", name="uq_booking_photos_storage_key"),
    )
    op.create_index("ix_booking_photos_booking_id", "booking_photos", ["booking_id"])
    op.create_table(
        "pets",
        *_entity(),
        sa.Column("owner_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("pet_type", sa.String(20), nullable=False),
        sa.Column("breed", sa.String(100), nullable=True),
        sa.Column("weight_kg", sa.Float, nullable=True),
        sa.Column("age_months", sa.Integer, nullable=True),
        sa.Column("allergies", sa.String(500), nullable=True),
        sa.Column("special_needs", sa.String(500), nullable=True),
        sa.Column("notes", sa.String(1000), nullable=True),
        sa.Column("photo_url", sa.String(2048), nullable=True),
        sa.Column("vaccination_status", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_pets_owner_id", "pets", ["owner_id"])


def downgrade() -> None:
    for table in ("pets", "booking_photos", "booking_decline_reasons", "booking_status_history",
                  "bookings"):
        op.drop_table(table)
    drop_event_tables(op.get_bind())
