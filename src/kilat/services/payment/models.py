"""Tables of the payment service (schema built by the migrations in ``migrations/``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.idempotency import idempotency_table
from kilat.platform.models import Entity, UTCDateTime, VersionMixin, service_base, utcnow


Base = service_base("payment")
metadata = Base.metadata
idempotency_table(metadata)


class BookingView(Base):
    """Local read model of bookings, fed by ``booking.*`` events (or a direct read)."""

    __tablename__ = "booking_views"
    booking_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    booking_number: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    runner_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    final_price_cents: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Payment(Base, Entity, VersionMixin):
    __tablename__ = "payments"
    booking_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    booking_number: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    runner_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    escrow_status: Mapped[str] = mapped_column(String(20), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    subscription_discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    promo_discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_applied_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    charged_cents: Mapped[int] = mapped_column(BigInteger)
    platform_fee_cents: Mapped[int] = mapped_column(BigInteger)
    runner_payout_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    promo_id: Mapped[uuid.UUID | None] = mapped_column()
    promo_code: Mapped[str | None] = mapped_column(String(40))
    payment_method: Mapped[str | None] = mapped_column(String(50))
    customer_email: Mapped[str | None] = mapped_column(String(255))
    provider_payment_id: Mapped[str | None] = mapped_column(String(255))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    escrow_held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    authorization_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escrow_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refund_reason: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_reason: Mapped[str | None] = mapped_column(Text)
    pending_action: Mapped[str | None] = mapped_column(String(20))
    action_reason: Mapped[str | None] = mapped_column(Text)
    action_runner_id: Mapped[uuid.UUID | None] = mapped_column()
    action_attempts: Mapped[int] = mapped_column(Integer, default=0)
    action_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def discount_cents(self) -> int:
        return self.subscription_discount_cents + self.promo_discount_cents


class Promo(Base, Entity):
    __tablename__ = "promos"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    discount_type: Mapped[str] = mapped_column(String(20))
    discount_value: Mapped[int] = mapped_column(BigInteger)
    min_amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    max_discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    max_uses: Mapped[int] = mapped_column(Integer, default=0)
    current_uses: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class PromoUsage(Base, Entity):
    __tablename__ = "promo_usages"
    __table_args__ = (UniqueConstraint("promo_id", "user_id", name="uq_promo_usages_promo_user"),)
    promo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promos.id"))
    user_id: Mapped[uuid.UUID] = mapped_column()
    payment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    discount_cents: Mapped[int] = mapped_column(BigInteger)


class Subscription(Base, Entity, VersionMixin):
    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("uq_subscriptions_one_current", "user_id", unique=True,
              sqlite_where=text("status IN ('pending', 'active')"),
              postgresql_where=text("status IN ('pending', 'active')")),
    )
    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    plan: Mapped[str] = mapped_column(String(20))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    discount_percent: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    auto_renew: Mapped[bool] = mapped_column(Boolean, default=True)
    payment_method: Mapped[str | None] = mapped_column(String(50))
    provider_payment_id: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_reason: Mapped[str | None] = mapped_column(Text)


class Referral(Base, Entity):
    __tablename__ = "referrals"
    referrer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    referee_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    code: Mapped[str | None] = mapped_column(String(40))
    referrer_credited: Mapped[bool] = mapped_column(Boolean, default=False)
    referee_credited: Mapped[bool] = mapped_column(Boolean, default=False)
    credited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerPosting(Base):
    __tablename__ = "ledger_postings"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account: Mapped[str] = mapped_column(String(100), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PayoutDestination(Base, Entity, VersionMixin):
    __tablename__ = "payout_destinations"
    runner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(20))
    bank_name: Mapped[str] = mapped_column(String(100))
    account_name: Mapped[str] = mapped_column(String(100))
    account_number: Mapped[str] = mapped_column(String(40))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def account_last4(self) -> str:
        return self.account_number[-4:]


class CashOut(Base, Entity, VersionMixin):
    """A payee's cash-out; ``runner_id`` is the payee (a runner, driver or courier) and
    ``balance_account`` the ledger account paid from (None on a runner's older rows)."""

    __tablename__ = "cash_outs"
    runner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    balance_account: Mapped[str | None] = mapped_column(String(100))
    destination_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payout_destinations.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    fee_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), index=True)
    rail_reference: Mapped[str | None] = mapped_column(String(60))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure_reason: Mapped[str | None] = mapped_column(Text)


class Charge(Base, Entity, VersionMixin):
    """A vertical's charge; its id is the request's ``charge_id`` (the idempotency key)."""

    __tablename__ = "charges"
    source: Mapped[str] = mapped_column(String(20), index=True)
    reference_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reference: Mapped[str] = mapped_column(String(100), default="")
    payer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    payee_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    payee_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str | None] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    provider_payment_id: Mapped[str | None] = mapped_column(String(255))
    refunded_total: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChargeRefund(Base, Entity, VersionMixin):
    """A refund of part or all of a charge; its id is the request's ``refund_id``. No foreign
    key: a refund of a charge this service never saw is kept, refused."""

    __tablename__ = "charge_refunds"
    charge_id: Mapped[uuid.UUID] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(20))
    reference_id: Mapped[uuid.UUID] = mapped_column()
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The built-in provider and the simulated bank rail keep their own books here. They stand in for
# outside systems: the payment code reaches them only through their ports.


class ProviderIntent(Base):
    __tablename__ = "provider_intents"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(30))
    capture_method: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    amount_received_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    payment_method: Mapped[str] = mapped_column(String(60))
    reference: Mapped[str | None] = mapped_column(String(100))
    cancellation_reason: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProviderRequest(Base):
    __tablename__ = "provider_requests"
    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    operation: Mapped[str] = mapped_column(String(20))
    intent_id: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[dict] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RailTransfer(Base):
    __tablename__ = "rail_transfers"
    reference: Mapped[str] = mapped_column(String(60), primary_key=True)
    transfer_id: Mapped[str] = mapped_column(String(100), unique=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settles_at: Mapped[datetime] = mapped_column(UTCDateTime())

