"""PostgreSQL only: a geography point for each trip's last known position, GiST-indexed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from kilat.platform.geo import add_point_column, drop_point_column
from kilat.platform.migrations import is_postgres

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    if is_postgres():
        add_point_column("trips", "last_position", "last_latitude", "last_longitude")


def downgrade() -> None:
    if is_postgres():
        drop_point_column("trips", "last_position")
