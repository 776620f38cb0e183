"""Every query of the payment service."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, not_, or_, select, text, update

from kilat.platform.repository import Repository
from kilat.services.payment.domain import (
    PLATFORM_ACCOUNTS,
    CashOutStatus,
    EscrowStatus,
    JournalEntry,
    SubscriptionStatus,
)
from kilat.services.payment.models import (
    BookingView,
    CashOut,
    LedgerEntry,
    LedgerPosting,
    Payment,
    PayoutDestination,
    Promo,
    PromoUsage,
    Referral,
    Subscription,
)


class PaymentRepository(Repository):
    """Every query of the payment service (payments, ledger, payouts, promos, referrals,
    subscriptions and the bookings read model)."""

    async def lock_account(self, account: str) -> None:
        """Serialise spenders of one ledger account (SQLite's write lock already does)."""
        if self.is_postgres:
            key = int.from_bytes(hashlib.sha256(account.encode()).digest()[:8], "big", signed=True)
            await self.session.execute(text("SET LOCAL lock_timeout = '5s'"))
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    # --- bookings read model ----------------------------------------------------------------

    async def booking(self, booking_id: uuid.UUID) -> BookingView | None:
        return await self.session.get(BookingView, booking_id)

    async def completed_bookings(self, owner_id: uuid.UUID) -> int:
        query = select(func.count()).where(BookingView.owner_id == owner_id,
                                           BookingView.status == "completed")
        return await self.session.scalar(query) or 0

    # --- payments ---------------------------------------------------------------------------

    async def payment_for_booking(self, booking_id: uuid.UUID, *, for_update: bool = False
                                  ) -> Payment | None:
        query = select(Payment).where(Payment.booking_id == booking_id)
        return await self.session.scalar(query.with_for_update() if for_update else query)

    def payments_query(self, filters: dict[str, Any]) -> Select:
        query = select(Payment).order_by(Payment.created_at.desc(), Payment.id)
        for column in ("escrow_status", "owner_id", "runner_id", "booking_id"):
            if filters.get(column) is not None:
                query = query.where(getattr(Payment, column) == filters[column])
        if filters.get("created_from") is not None:
            query = query.where(Payment.created_at >= filters["created_from"])
        if filters.get("created_to") is not None:
            query = query.where(Payment.created_at < filters["created_to"])
        if filters.get("party") is not None:
            party = filters["party"]
            query = query.where(or_(Payment.owner_id == party, Payment.runner_id == party))
        return query

    async def due_actions(self, now: datetime, limit: int = 20) -> list[uuid.UUID]:
        query = (select(Payment.id)
                 .where(Payment.pending_action.is_not(None), Payment.action_due_at <= now)
                 .order_by(Payment.action_due_at).limit(limit))
        return list(await self.session.scalars(query))

    async def lapsed_holds(self, now: datetime) -> list[uuid.UUID]:
        query = select(Payment.id).where(Payment.escrow_status == EscrowStatus.HELD,
                                         Payment.pending_action.is_(None),
                                         Payment.authorization_expires_at <= now)
        return list(await self.session.scalars(query))

    async def stale_pending(self, before: datetime) -> list[uuid.UUID]:
        query = select(Payment.id).where(Payment.escrow_status == EscrowStatus.PENDING,
                                         Payment.updated_at < before)
        return list(await self.session.scalars(query))

    async def payment_stats(self) -> dict[str, Any]:
        amount = func.coalesce(func.sum(Payment.amount_cents), 0)
        rows = await self.session.execute(
            select(Payment.escrow_status, func.count(), amount).group_by(Payment.escrow_status))
        return {status: (count, amount) for status, count, amount in rows}

    # --- promos -----------------------------------------------------------------------------

    async def promo_by_code(self, code: str) -> Promo | None:
        return await self.session.scalar(select(Promo).where(Promo.code == code))

    async def promo_used_by(self, promo_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        query = select(PromoUsage.id).where(PromoUsage.promo_id == promo_id,
                                            PromoUsage.user_id == user_id)
        return await self.session.scalar(query) is not None

    async def claim_promo_use(self, promo_id: uuid.UUID) -> bool:
        """Count one use unless the cap is reached; the database settles concurrent claims."""
        result = await self.session.execute(
            update(Promo)
            .where(Promo.id == promo_id,
                   or_(Promo.max_uses == 0, Promo.current_uses < Promo.max_uses))
            .values(current_uses=Promo.current_uses + 1)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def release_promo_use(self, payment_id: uuid.UUID) -> None:
        query = select(PromoUsage).where(PromoUsage.payment_id == payment_id)
        usage = await self.session.scalar(query)
        if usage is None:
            return
        await self.session.execute(
            update(Promo).where(Promo.id == usage.promo_id, Promo.current_uses > 0)
            .values(current_uses=Promo.current_uses - 1)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(delete(PromoUsage).where(PromoUsage.id == usage.id))

    def promos_query(self, *, live: bool | None = None, now: datetime | None = None) -> Select:
        query = select(Promo).order_by(Promo.created_at.desc(), Promo.id)
        if live is None:
            return query
        usable = and_(Promo.valid_from < now, Promo.valid_until > now,
                      or_(Promo.max_uses == 0, Promo.current_uses < Promo.max_uses))
        return query.where(usable if live else not_(usable))

    # --- subscriptions ----------------------------------------------------------------------

    async def current_subscription(self, user_id: uuid.UUID) -> Subscription | None:
        """The pending or active subscription that blocks another one."""
        query = select(Subscription).where(
            Subscription.user_id == user_id,
            Subscription.status.in_([SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE]))
        return await self.session.scalar(query)

    async def active_subscription(self, user_id: uuid.UUID, now: datetime) -> Subscription | None:
        query = select(Subscription).where(Subscription.user_id == user_id,
                                           Subscription.status == SubscriptionStatus.ACTIVE,
                                           Subscription.expires_at > now)
        return await self.session.scalar(query)

    async def subscriptions_to_expire(self, now: datetime) -> list[Subscription]:
        query = select(Subscription).where(Subscription.status == SubscriptionStatus.ACTIVE,
                                           Subscription.auto_renew.is_(False),
                                           Subscription.expires_at <= now)
        return list(await self.session.scalars(query))

    async def subscriptions_to_renew(self, before: datetime) -> list[uuid.UUID]:
        query = select(Subscription.id).where(Subscription.status == SubscriptionStatus.ACTIVE,
                                              Subscription.auto_renew.is_(True),
                                              Subscription.expires_at <= before)
        return list(await self.session.scalars(query))

    # --- referrals --------------------------------------------------------------------------

    async def referral_for_referee(self, referee_id: uuid.UUID) -> Referral | None:
        return await self.session.scalar(select(Referral).where(Referral.referee_id == referee_id))

    # --- ledger -----------------------------------------------------------------------------

    async def has_entry(self, reference: str) -> bool:
        query = select(LedgerEntry.id).where(LedgerEntry.reference == reference)
        return await self.session.scalar(query) is not None

    async def add_entry(self, entry: JournalEntry, currency: str) -> None:
        row = LedgerEntry(kind=entry.kind, reference=entry.reference, currency=currency)
        self.session.add(row)
        await self.session.flush()
        self.session.add_all(LedgerPosting(entry_id=row.id, account=p.account,
                                           amount_cents=p.amount_cents) for p in entry.postings)
        await self.session.flush()

    async def balance(self, account: str) -> int:
        query = select(func.coalesce(func.sum(LedgerPosting.amount_cents), 0)).where(
            LedgerPosting.account == account)
        return int(await self.session.scalar(query) or 0)

    async def nonzero_balances(self, prefix: str) -> dict[str, int]:
        total = func.sum(LedgerPosting.amount_cents)
        rows = await self.session.execute(
            select(LedgerPosting.account, total)
            .where(LedgerPosting.account.startswith(prefix))
            .group_by(LedgerPosting.account).having(total != 0))
        return {account: int(amount) for account, amount in rows}

    async def platform_revenue(self) -> int:
        query = select(func.coalesce(func.sum(LedgerPosting.amount_cents), 0)).where(
            LedgerPosting.account.in_(PLATFORM_ACCOUNTS))
        return int(await self.session.scalar(query) or 0)

    async def ledger_totals(self) -> tuple[int, int, int]:
        entries = await self.session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
        postings, total = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerPosting.amount_cents), 0))
        )).one()
        return entries, postings, int(total)

    async def unbalanced_entries(self) -> list[str]:
        query = (select(LedgerEntry.reference)
                 .join(LedgerPosting, LedgerPosting.entry_id == LedgerEntry.id)
                 .group_by(LedgerEntry.id, LedgerEntry.reference)
                 .having(func.sum(LedgerPosting.amount_cents) != 0))
        return list(await self.session.scalars(query))

    async def open_payments(self) -> list[Payment]:
        query = select(Payment).where(
            Payment.escrow_status.in_([EscrowStatus.PENDING, EscrowStatus.HELD]))
        return list(await self.session.scalars(query))

    # --- payouts ----------------------------------------------------------------------------

    def destinations_query(self, runner_id: uuid.UUID) -> Select:
        return (select(PayoutDestination)
                .where(PayoutDestination.runner_id == runner_id,
                       PayoutDestination.deleted_at.is_(None))
                .order_by(PayoutDestination.created_at, PayoutDestination.id))

    async def clear_default_destination(self, runner_id: uuid.UUID) -> None:
        await self.session.execute(
            update(PayoutDestination).where(PayoutDestination.runner_id == runner_id)
            .values(is_default=False).execution_options(synchronize_session="fetch"))

    def cash_outs_query(self, runner_id: uuid.UUID | None) -> Select:
        query = select(CashOut).order_by(CashOut.created_at.desc(), CashOut.id)
        return query if runner_id is None else query.where(CashOut.runner_id == runner_id)

    async def cash_outs_in(self, *statuses: CashOutStatus) -> list[uuid.UUID]:
        query = (select(CashOut.id).where(CashOut.status.in_(list(statuses)))
                 .order_by(CashOut.created_at))
        return list(await self.session.scalars(query))

    async def open_cash_out_cents(self, runner_id: uuid.UUID) -> int:
        open_statuses = [CashOutStatus.PENDING, CashOutStatus.PROCESSING]
        query = select(func.coalesce(func.sum(CashOut.amount_cents + CashOut.fee_cents), 0)).where(
            and_(CashOut.runner_id == runner_id, CashOut.status.in_(open_statuses)))
        return int(await self.session.scalar(query) or 0)
