"""Queries of payments and of the bookings read model."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from kilat.platform.repository import Repository
from kilat.services.payment.escrow.domain import EscrowStatus
from kilat.services.payment.models import (
    BookingView,
    Payment,
)


class EscrowRepository(Repository):
    """Queries of payments and of the bookings read model."""

    async def booking(self, booking_id: uuid.UUID) -> BookingView | None:
        return await self.session.get(BookingView, booking_id)

    async def completed_bookings(self, owner_id: uuid.UUID) -> int:
        query = select(func.count()).where(BookingView.owner_id == owner_id,
                                           BookingView.status == "completed")
        return await self.session.scalar(query) or 0

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

    async def open_payments(self) -> list[Payment]:
        query = select(Payment).where(
            Payment.escrow_status.in_([EscrowStatus.PENDING, EscrowStatus.HELD]))
        return list(await self.session.scalars(query))
