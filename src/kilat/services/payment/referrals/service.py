"""Referral credits (§3.8): both sides credited when the referred user's first booking completes."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.identity import ReferralRecorded
from kilat.platform.models import utcnow
from kilat.services.payment.context import PaymentContext
from kilat.services.payment.escrow.repository import EscrowRepository
from kilat.services.payment.ledger import service as ledger
from kilat.services.payment.ledger.domain import credit_account
from kilat.services.payment.ledger.repository import LedgerRepository
from kilat.services.payment.models import Referral
from kilat.services.payment.referrals import events
from kilat.services.payment.referrals.domain import referral_credit_entry
from kilat.services.payment.referrals.repository import ReferralRepository


async def record_referral(session: AsyncSession, ctx: PaymentContext,
                          referral: ReferralRecorded) -> None:
    """Keep ``identity.referral_recorded``; credit at once if a booking already completed."""
    repo = ReferralRepository(session)
    if await repo.referral_for_referee(referral.referee_id) is None:
        session.add(Referral(referrer_id=referral.referrer_id, referee_id=referral.referee_id,
                             code=referral.code))
        await session.flush()
    await credit_if_due(session, ctx, referral.referee_id)


async def credit_if_due(session: AsyncSession, ctx: PaymentContext, referee_id: uuid.UUID) -> None:
    repo = ReferralRepository(session)
    referral = await repo.referral_for_referee(referee_id)
    if referral is None or (referral.referrer_credited and referral.referee_credited):
        return
    if await EscrowRepository(session).completed_bookings(referee_id) == 0:
        return
    amount = ctx.settings.referral_credit_cents
    for role, user_id, flag in (("referrer", referral.referrer_id, "referrer_credited"),
                                ("referee", referral.referee_id, "referee_credited")):
        if getattr(referral, flag):
            continue
        entry = referral_credit_entry(referral.id, user_id, role, amount)
        await ledger.post(repo.session, entry, ctx.settings.currency)
        setattr(referral, flag, True)
        await events.referral_credited(session, referral=referral, user_id=user_id, role=role,
                                       amount_cents=amount, currency=ctx.settings.currency)
    referral.credited_at = utcnow()


async def credit_balance(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await LedgerRepository(session).balance(credit_account(user_id))
