"""runners, crate specs, pet shops, read models and event tables

Revision ID: runner_0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.events.tables import create_event_tables
from kilat.platform.geo import add_point_column
from kilat.platform.migrations import is_postgres
from kilat.platform.models import UTCDateTime

revision = "runner_0001"
down_revision = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    create_event_tables(op.get_bind())
    op.create_table(
        "runners",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("vehicle_type", sa.String(20), nullable=False),
        sa.Column("vehicle_plate", sa.String(20)),
        sa.Column("vehicle_model", sa.String(100)),
        sa.Column("vehicle_year", sa.Integer),
        sa.Column("air_conditioned", sa.Boolean, nullable=False),
        sa.Column("session_status", sa.String(20), nullable=False),
        sa.Column("current_lat", sa.Float),
        sa.Column("current_lng", sa.Float),
        sa.Column("location_updated_at", UTCDateTime()),
        sa.Column("active_booking_id", sa.Uuid),
        sa.Column("rating", sa.Numeric(3, 2), nullable=False),
        sa.Column("total_trips", sa.Integer, nullable=False),
        sa.Column("completion_rate", sa.Numeric(3, 2), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("user_id", name="uq_runners_user_id"),
    )
    op.create_index("ix_runners_session_status", "runners", ["session_status"])
    op.create_table(
        "crate_specs",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("runner_id", sa.Uuid,
                  sa.ForeignKey("runners.id", ondelete="CASCADE",
                                name="fk_crate_specs_runner_id_runners"),
                  nullable=False),
        sa.Column("size", sa.String(10), nullable=False),
        sa.Column("pet_types", sa.JSON, nullable=False),
        sa.Column("max_weight_kg", sa.Float, nullable=False),
        sa.Column("width_cm", sa.Float),
        sa.Column("height_cm", sa.Float),
        sa.Column("depth_cm", sa.Float),
        sa.Column("ventilated", sa.Boolean, nullable=False),
        sa.Column("temperature_controlled", sa.Boolean, nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_crate_specs_runner_id", "crate_specs", ["runner_id"])
    _create_pet_shops()
    _create_read_models()


def _create_pet_shops() -> None:
    op.create_table(
        "pet_shops",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("owner_id", sa.Uuid),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("email", sa.String(255)),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("rating", sa.Numeric(3, 2), nullable=False),
        sa.Column("image_url", sa.Text),
        sa.Column("opening_hours", sa.String(100)),
        sa.Column("description", sa.Text),
        sa.Column("version", sa.Integer, nullable=False),
        *_timestamps(),
    )
    op.create_index("ix_pet_shops_owner_id", "pet_shops", ["owner_id"])
    op.create_index("ix_pet_shops_category", "pet_shops", ["category"])
    op.create_index("ix_pet_shops_lat_lng", "pet_shops", ["latitude", "longitude"])
    if is_postgres():
        add_point_column("pet_shops", "location", "latitude", "longitude")


def _create_read_models() -> None:
    op.create_table(
        "runner_assignments",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("runner_user_id", sa.Uuid, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("cancelled_by_runner", sa.Boolean, nullable=False),
        sa.Column("fact_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_runner_assignments_runner_user_id", "runner_assignments",
                    ["runner_user_id"])
    op.create_table(
        "runner_reviews",
        sa.Column("review_id", sa.Uuid, primary_key=True),
        sa.Column("booking_id", sa.Uuid),
        sa.Column("runner_user_id", sa.Uuid, nullable=False),
        sa.Column("rating", sa.Integer, nullable=False),
        sa.Column("hidden", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_runner_reviews_runner_user_id", "runner_reviews", ["runner_user_id"])
    op.create_table(
        "user_profiles",
        sa.Column("user_id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.String(255)),
        sa.Column("full_name", sa.String(255)),
        sa.Column("phone", sa.String(20)),
        sa.Column("role", sa.String(20)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("user_profiles", "runner_reviews", "runner_assignments", "pet_shops",
                  "crate_specs", "runners"):
        op.drop_table(table)
    from kilat.platform.events.tables import drop_event_tables

    drop_event_tables(op.get_bind())
