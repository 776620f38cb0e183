"""PostgreSQL only: geography points for pickup and dropoff, kept from lat/lng, GiST-indexed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from kilat.platform.geo import add_point_column, drop_point_column
from kilat.platform.migrations import is_postgres

revision = "0002"
down_revision = "0001"

POINTS = (
    ("pickup_point", "pickup_lat", "pickup_lng"),
    ("dropoff_point", "dropoff_lat", "dropoff_lng"),
)


def upgrade() -> None:
    if not is_postgres():
        return
    for column, lat, lng in POINTS:
        add_point_column("bookings", column, lat, lng)


def downgrade() -> None:
    if not is_postgres():
        return
    for column, _lat, _lng in POINTS:
        drop_point_column("bookings", column)
