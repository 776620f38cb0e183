"""Queries of charges and their refunds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from kilat.platform.repository import Repository
from kilat.services.payment.charges.domain import ChargeStatus, RefundStatus
from kilat.services.payment.models import Charge, ChargeRefund


class ChargeRepository(Repository[Charge]):
    """Queries of charges and their refunds."""

    model = Charge
    entity = "Charge"

    async def refund(self, refund_id: uuid.UUID, *, for_update: bool = False
                     ) -> ChargeRefund | None:
        return await self.load(ChargeRefund, refund_id, for_update=for_update)

    async def refunds_of(self, charge_id: uuid.UUID) -> list[ChargeRefund]:
        query = (select(ChargeRefund).where(ChargeRefund.charge_id == charge_id)
                 .order_by(ChargeRefund.created_at, ChargeRefund.id))
        return list(await self.session.scalars(query))

    async def open_refunds_of(self, charge_id: uuid.UUID) -> list[ChargeRefund]:
        query = select(ChargeRefund).where(ChargeRefund.charge_id == charge_id,
                                           ChargeRefund.status == RefundStatus.REQUESTED)
        return list(await self.session.scalars(query.with_for_update()))

    def charges_query(self, filters: dict[str, Any]) -> Select:
        query = select(Charge).order_by(Charge.created_at.desc(), Charge.id)
        for column in ("source", "status", "payer_id", "payee_id", "reference_id"):
            if filters.get(column) is not None:
                query = query.where(getattr(Charge, column) == filters[column])
        return query

    async def due_charges(self, now: datetime, limit: int = 20) -> list[uuid.UUID]:
        query = (select(Charge.id)
                 .where(Charge.status == ChargeStatus.REQUESTED, Charge.due_at <= now)
                 .order_by(Charge.due_at).limit(limit))
        return list(await self.session.scalars(query))

    async def due_refunds(self, now: datetime, limit: int = 20) -> list[uuid.UUID]:
        """Refunds to carry out: asked for, due, of a charge already captured."""
        query = (select(ChargeRefund.id)
                 .join(Charge, Charge.id == ChargeRefund.charge_id)
                 .where(ChargeRefund.status == RefundStatus.REQUESTED,
                        ChargeRefund.due_at <= now, Charge.status == ChargeStatus.CAPTURED)
                 .order_by(ChargeRefund.due_at).limit(limit))
        return list(await self.session.scalars(query))
