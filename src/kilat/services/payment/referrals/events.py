"""Events of referral credits (kilat.contracts.payment)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts import payment as contracts
from kilat.platform.events import record_event
from kilat.platform.models import utcnow


async def referral_credited(session: AsyncSession, *, referral, user_id, role: str,
                            amount_cents: int, currency: str) -> None:
    await record_event(session, contracts.ReferralCredited(
        referral_id=referral.id, referral_code=referral.code, referrer_id=referral.referrer_id,
        referee_id=referral.referee_id, user_id=user_id, role=role, amount_cents=amount_cents,
        currency=currency, occurred_at=utcnow()))
