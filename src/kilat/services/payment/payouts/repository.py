"""Queries of payout destinations and cash-outs."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, and_, func, select, update

from kilat.platform.repository import Repository
from kilat.services.payment.models import (
    CashOut,
    PayoutDestination,
)
from kilat.services.payment.payouts.domain import CashOutStatus


class PayoutRepository(Repository):
    """Queries of payout destinations and cash-outs."""

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

    async def open_cash_out_cents(self, runner_id: uuid.UUID, currency: str) -> int:
        open_statuses = [CashOutStatus.PENDING, CashOutStatus.PROCESSING]
        query = select(func.coalesce(func.sum(CashOut.amount_cents + CashOut.fee_cents), 0)).where(
            and_(CashOut.runner_id == runner_id, CashOut.currency == currency,
                 CashOut.status.in_(open_statuses)))
        return int(await self.session.scalar(query) or 0)
