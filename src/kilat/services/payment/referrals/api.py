"""Referral credit routes."""

from __future__ import annotations

from fastapi import APIRouter

from kilat.platform.auth import CurrentUser
from kilat.platform.http import Session
from kilat.platform.schemas import (
    Envelope,
    error_responses,
    ok,
)
from kilat.services.payment.context import Ctx
from kilat.services.payment.referrals import schemas
from kilat.services.payment.referrals import service as referrals

payments = APIRouter(prefix="/api/v1/payments", tags=["payments"])


@payments.get("/credits/me", response_model=Envelope[schemas.CreditBalance],
              responses=error_responses(401))
async def my_credit(session: Session, ctx: Ctx, user: CurrentUser) -> dict:
    balance = await referrals.credit_balance(session, user.user_id)
    return ok(schemas.CreditBalance(user_id=user.user_id, balance_cents=balance,
                                    currency=ctx.settings.currency))


routers = [payments]
