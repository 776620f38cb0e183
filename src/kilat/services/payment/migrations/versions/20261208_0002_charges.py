"""charges the verticals ask for, and their refunds

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.models import UTCDateTime

revision = "0002"
down_revision = "0001"


def _entity() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    ]


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger, nullable=False)


def _when(name: str, index: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=True, index=index)


def _retries() -> list[sa.Column]:
    """What the worker needs to try a provider call again: attempts, when, the last error."""
    return [sa.Column("attempts", sa.Integer, nullable=False), _when("due_at", index=True),
            sa.Column("last_error", sa.Text, nullable=True)]


def upgrade() -> None:
    op.create_table(
        "charges",
        *_entity(),
        sa.Column("source", sa.String(20), nullable=False, index=True),
        sa.Column("reference_id", sa.Uuid, nullable=False, index=True),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("payer_id", sa.Uuid, nullable=False, index=True),
        sa.Column("payee_id", sa.Uuid, nullable=True, index=True),
        _money("amount"),
        _money("payee_amount"),
        _money("fee_amount"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_method", sa.String(60), nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("provider_payment_id", sa.String(255), nullable=True),
        _money("refunded_total"),
        _money("refund_reserved"),
        sa.Column("failure_reason", sa.Text, nullable=True),
        *_retries(),
        _when("requested_at"),
        _when("captured_at"),
        _when("failed_at"),
    )
    op.create_table(
        "charge_refunds",
        *_entity(),
        sa.Column("charge_id", sa.Uuid, nullable=False, index=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("reference_id", sa.Uuid, nullable=False),
        _money("amount"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        *_retries(),
        _when("refunded_at"),
        _when("failed_at"),
    )


def downgrade() -> None:
    op.drop_table("charge_refunds")
    op.drop_table("charges")
