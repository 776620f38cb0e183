"""cash-outs of any payee: the ledger account a cash-out is paid from

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("cash_outs", sa.Column("balance_account", sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cash_outs") as batch:
        batch.drop_column("balance_account")
