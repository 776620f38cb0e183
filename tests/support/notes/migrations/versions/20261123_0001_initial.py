"""notes and event tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.events.tables import create_event_tables
from kilat.platform.models import UTCDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_tables(op.get_bind())
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("text", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "note_echoes",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("note_id", sa.String(36), nullable=False),
        sa.Column("times", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("note_echoes")
    op.drop_table("notes")
