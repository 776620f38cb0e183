"""Promo codes (§3.5): admin creation, validation for a user, the live list."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal
from kilat.platform.errors import Conflict
from kilat.platform.models import utcnow
from kilat.services.payment.models import Promo
from kilat.services.payment.promos.domain import (
    PromoTerms,
    evaluate_promo,
    normalise_code,
)
from kilat.services.payment.promos.repository import PromoRepository
from kilat.services.payment.promos.schemas import (
    PromoCreate,
    PromoValidate,
    PromoValidation,
)


def promo_terms(promo: Promo) -> PromoTerms:
    return PromoTerms(promo.discount_type, promo.discount_value, promo.min_amount_cents,
                      promo.max_discount_cents, promo.max_uses, promo.current_uses,
                      promo.valid_from, promo.valid_until)


async def create_promo(session: AsyncSession, admin: Principal, body: PromoCreate) -> Promo:
    repo = PromoRepository(session)
    if await repo.promo_by_code(body.code) is not None:
        raise Conflict("promo code already exists", f"code '{body.code}'")
    promo = Promo(**body.model_dump(), current_uses=0, created_by=admin.user_id)
    session.add(promo)
    await session.flush()
    return promo


async def validate_promo(session: AsyncSession, user_id: uuid.UUID,
                         body: PromoValidate) -> PromoValidation:
    """Always an answer, never an error: what the code would take off ``amount_cents``."""
    repo = PromoRepository(session)
    code = normalise_code(body.code)
    promo = await repo.promo_by_code(code)
    used = promo is not None and await repo.promo_used_by(promo.id, user_id)
    terms = promo_terms(promo) if promo is not None else None
    verdict = evaluate_promo(terms, body.amount_cents, utcnow(), already_used=used)
    return PromoValidation(valid=verdict.valid, code=code, discount_cents=verdict.discount_cents,
                           message=verdict.message)


async def live_promos(session: AsyncSession) -> list[Promo]:
    query = PromoRepository(session).promos_query(live=True, now=utcnow())
    return list(await session.scalars(query))


DEMO_PROMO = "WELCOME10"


async def seed_demo(session: AsyncSession) -> None:
    """A welcome promo, so a new user can try a discounted payment (safe to run again)."""
    if await PromoRepository(session).promo_by_code(DEMO_PROMO) is not None:
        return
    now = utcnow()
    session.add(Promo(code=DEMO_PROMO, description="10% off your first booking, up to RM10",
                      discount_type="percentage", discount_value=10, min_amount_cents=0,
                      max_discount_cents=1000, max_uses=1000, current_uses=0,
                      valid_from=now - timedelta(minutes=1), valid_until=now + timedelta(days=365)))
