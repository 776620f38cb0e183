"""Identity's event consumers: referral credits paid by the payment service."""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.events import Event
from kilat.services.identity.models import Referral

CREDIT_FLAGS = {"referrer": Referral.referrer_credited, "referee": Referral.referee_credited}


async def on_referral_credited(session: AsyncSession, event: Event) -> None:
    """Mark the referral's side as credited, so ``GET /referrals/me`` shows it."""
    flag = CREDIT_FLAGS.get(event.data.get("role", ""))
    if flag is None:
        return
    await session.execute(
        update(Referral)
        .where(Referral.referee_id == uuid.UUID(event.data["referee_id"]))
        .values({flag.key: True})
    )


def handlers(_runtime) -> dict:
    return {"payment.referral_credited": on_referral_credited}
