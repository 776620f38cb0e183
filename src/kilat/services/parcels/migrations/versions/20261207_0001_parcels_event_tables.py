"""parcels event tables

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from alembic import op

from kilat.platform.events.tables import create_event_tables, drop_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_tables(op.get_bind())


def downgrade() -> None:
    drop_event_tables(op.get_bind())
