"""dispatch_reports.file_key: where the report's CSV file is stored

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    with op.batch_alter_table("dispatch_reports") as batch:
        batch.add_column(sa.Column("file_key", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dispatch_reports") as batch:
        batch.drop_column("file_key")
