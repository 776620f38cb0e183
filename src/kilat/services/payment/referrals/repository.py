"""Queries of referrals."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from kilat.platform.repository import Repository
from kilat.services.payment.models import (
    Referral,
)


class ReferralRepository(Repository):
    """Queries of referrals."""

    async def referral_for_referee(self, referee_id: uuid.UUID) -> Referral | None:
        return await self.session.scalar(select(Referral).where(Referral.referee_id == referee_id))
