"""Queries of promo codes and their uses."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, and_, delete, not_, or_, select, update

from kilat.platform.repository import Repository
from kilat.services.payment.models import (
    Promo,
    PromoUsage,
)


class PromoRepository(Repository):
    """Queries of promo codes and their uses."""

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
