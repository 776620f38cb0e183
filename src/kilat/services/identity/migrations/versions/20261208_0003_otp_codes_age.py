"""identity: otp_codes by age, for the pruning of old codes on every request

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_index("ix_otp_codes_created_at", "otp_codes", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_otp_codes_created_at", "otp_codes")
