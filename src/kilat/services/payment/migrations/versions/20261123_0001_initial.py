"""payments, bookings read model, promos, subscriptions, referrals, ledger, payouts, provider books

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from kilat.platform.events.tables import create_event_tables
from kilat.platform.idempotency import create_idempotency_table
from kilat.platform.models import UTCDateTime

revision = "0001"
down_revision = None


def _entity() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    ]


def _version() -> sa.Column:
    return sa.Column("version", sa.Integer, nullable=False)


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def _when(name: str) -> sa.Column:
    return sa.Column(name, UTCDateTime(), nullable=True)


def upgrade() -> None:
    create_event_tables(op.get_bind())
    create_idempotency_table(op.get_bind())
    _bookings_and_payments()
    _promos_and_subscriptions()
    _ledger()
    _payouts()
    _outside_systems()


def _bookings_and_payments() -> None:
    op.create_table(
        "booking_views",
        sa.Column("booking_id", sa.Uuid, primary_key=True),
        sa.Column("booking_number", sa.String(20), nullable=True),
        sa.Column("owner_id", sa.Uuid, nullable=False, index=True),
        sa.Column("runner_id", sa.Uuid, nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        _money("price_cents"),
        _money("final_price_cents", nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "payments",
        *_entity(),
        _version(),
        sa.Column("booking_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("booking_number", sa.String(20), nullable=True),
        sa.Column("owner_id", sa.Uuid, nullable=False, index=True),
        sa.Column("runner_id", sa.Uuid, nullable=True, index=True),
        sa.Column("escrow_status", sa.String(20), nullable=False, index=True),
        _money("amount_cents"),
        _money("subscription_discount_cents"),
        _money("promo_discount_cents"),
        _money("credit_applied_cents"),
        _money("charged_cents"),
        _money("platform_fee_cents"),
        _money("runner_payout_cents"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("promo_id", sa.Uuid, nullable=True),
        sa.Column("promo_code", sa.String(40), nullable=True),
        sa.Column("payment_method", sa.String(50), nullable=True),
        sa.Column("customer_email", sa.String(255), nullable=True),
        sa.Column("provider_payment_id", sa.String(255), nullable=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        _when("escrow_held_at"),
        _when("authorization_expires_at"),
        _when("escrow_released_at"),
        _when("refunded_at"),
        sa.Column("refund_reason", sa.Text, nullable=True),
        _when("failed_at"),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("pending_action", sa.String(20), nullable=True),
        sa.Column("action_reason", sa.Text, nullable=True),
        sa.Column("action_runner_id", sa.Uuid, nullable=True),
        sa.Column("action_attempts", sa.Integer, nullable=False),
        sa.Column("action_due_at", UTCDateTime(), nullable=True, index=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )


def _promos_and_subscriptions() -> None:
    op.create_table(
        "promos",
        *_entity(),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("discount_type", sa.String(20), nullable=False),
        _money("discount_value"),
        _money("min_amount_cents"),
        _money("max_discount_cents"),
        sa.Column("max_uses", sa.Integer, nullable=False),
        sa.Column("current_uses", sa.Integer, nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.Uuid, nullable=True),
    )
    op.create_table(
        "promo_usages",
        *_entity(),
        sa.Column("promo_id", sa.Uuid, sa.ForeignKey("promos.id"), nullable=False),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("payment_id", sa.Uuid, nullable=False, index=True),
        _money("discount_cents"),
        sa.UniqueConstraint("promo_id", "user_id", name="uq_promo_usages_promo_user"),
    )
    op.create_table(
        "subscriptions",
        *_entity(),
        _version(),
        sa.Column("user_id", sa.Uuid, nullable=False, index=True),
        sa.Column("plan", sa.String(20), nullable=False),
        _money("price_cents"),
        sa.Column("discount_percent", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("auto_renew", sa.Boolean, nullable=False),
        sa.Column("payment_method", sa.String(50), nullable=True),
        sa.Column("provider_payment_id", sa.String(255), nullable=True),
        _when("started_at"),
        _when("expires_at"),
        _when("cancelled_at"),
        sa.Column("failure_reason", sa.Text, nullable=True),
    )
    current = sa.text("status IN ('pending', 'active')")
    op.create_index("uq_subscriptions_one_current", "subscriptions", ["user_id"], unique=True,
                    sqlite_where=current, postgresql_where=current)
    op.create_table(
        "referrals",
        *_entity(),
        sa.Column("referrer_id", sa.Uuid, nullable=False, index=True),
        sa.Column("referee_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("code", sa.String(40), nullable=True),
        sa.Column("referrer_credited", sa.Boolean, nullable=False),
        sa.Column("referee_credited", sa.Boolean, nullable=False),
        _when("credited_at"),
    )


def _ledger() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False, unique=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("entry_id", sa.Uuid, sa.ForeignKey("ledger_entries.id"), nullable=False,
                  index=True),
        sa.Column("account", sa.String(100), nullable=False, index=True),
        _money("amount_cents"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def _payouts() -> None:
    op.create_table(
        "payout_destinations",
        *_entity(),
        _version(),
        sa.Column("runner_id", sa.Uuid, nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("bank_name", sa.String(100), nullable=False),
        sa.Column("account_name", sa.String(100), nullable=False),
        sa.Column("account_number", sa.String(40), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        _when("deleted_at"),
    )
    op.create_table(
        "cash_outs",
        *_entity(),
        _version(),
        sa.Column("runner_id", sa.Uuid, nullable=False, index=True),
        sa.Column("destination_id", sa.Uuid, sa.ForeignKey("payout_destinations.id"),
                  nullable=False),
        _money("amount_cents"),
        _money("fee_cents"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("rail_reference", sa.String(60), nullable=True),
        _when("submitted_at"),
        _when("completed_at"),
        _when("failed_at"),
        sa.Column("failure_reason", sa.Text, nullable=True),
    )


def _outside_systems() -> None:
    """Books of the built-in card processor and the simulated bank rail."""
    op.create_table(
        "provider_intents",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("capture_method", sa.String(20), nullable=False),
        _money("amount_cents"),
        _money("amount_received_cents"),
        _money("amount_refunded_cents"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("payment_method", sa.String(60), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("cancellation_reason", sa.String(40), nullable=True),
        _when("expires_at"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "provider_requests",
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("operation", sa.String(20), nullable=False),
        sa.Column("intent_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "rail_transfers",
        sa.Column("reference", sa.String(60), primary_key=True),
        sa.Column("transfer_id", sa.String(100), nullable=False, unique=True),
        _money("amount_cents"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("settles_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    for table in ("rail_transfers", "provider_requests", "provider_intents", "cash_outs",
                  "payout_destinations", "ledger_postings", "ledger_entries", "referrals",
                  "subscriptions", "promo_usages", "promos", "payments", "booking_views",
                  "idempotency_keys", "event_dead_letters", "event_inbox", "event_outbox"):
        op.drop_table(table)
