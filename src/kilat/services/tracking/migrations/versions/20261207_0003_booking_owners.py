"""booking owners: a requested booking's owner may watch it before a runner accepts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.models import UTCDateTime

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "booking_owners",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("owner_id", sa.Uuid, nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("booking_owners")
