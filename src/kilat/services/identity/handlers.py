"""Identity's event consumers: referral credits paid by the payment service."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.payment import ReferralCredited
from kilat.platform.events import Event
from kilat.services.identity.models import Referral

CREDIT_FLAGS = {"referrer": Referral.referrer_credited, "referee": Referral.referee_credited}


async def on_referral_credited(session: AsyncSession, event: Event) -> None:
    """Mark the referral's side as credited, so ``GET /referrals/me`` shows it."""
    credited: ReferralCredited = event.payload
    flag = CREDIT_FLAGS.get(credited.role)
    if flag is None:
        return
    await session.execute(
        update(Referral).where(Referral.referee_id == credited.referee_id).values({flag.key: True})
    )


def handlers(_runtime) -> dict:
    return {ReferralCredited.TYPE: on_referral_credited}
