"""Ads: admin-managed, served by the targeting language (``domain.rule_matches``), every
impression logged."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import Unprocessable
from kilat.services.parcels import domain
from kilat.services.parcels.audit import Actor, audit
from kilat.services.parcels.models import Ad, AdImpression, FeatureFlag
from kilat.services.parcels.repository import Ads, Customers
from kilat.services.parcels.schemas import AdCreate, AdUpdate


def _check(rules: dict[str, Any], starts_at: datetime | None, ends_at: datetime | None) -> None:
    try:
        domain.check_rule(rules)
    except domain.RuleError as exc:
        raise Unprocessable("invalid target_rules", str(exc)) from exc
    if starts_at and ends_at and ends_at <= starts_at:
        raise Unprocessable("ends_at must be after starts_at")


class AdService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = Ads(session)

    async def create(self, body: AdCreate, actor: Actor) -> Ad:
        _check(body.target_rules, body.starts_at, body.ends_at)
        ad = Ad(**body.model_dump())
        ad.media_url = str(body.media_url) if body.media_url else None
        self.session.add(ad)
        await self.session.flush()
        audit(self.session, actor, "ad.create", "ads", ad.id, body.model_dump())
        return ad

    async def update(self, ad_id: uuid.UUID, body: AdUpdate, actor: Actor) -> Ad:
        ad = await self.repo.get_or_404(ad_id)
        changes = body.model_dump(exclude_unset=True)
        merged = {"target_rules": ad.target_rules, "starts_at": ad.starts_at,
                  "ends_at": ad.ends_at} | changes
        _check(merged["target_rules"] or {}, merged["starts_at"], merged["ends_at"])
        for name, value in changes.items():
            setattr(ad, name, value if name != "target_rules" else value or {})
        await self.session.flush()
        audit(self.session, actor, "ad.update", "ads", ad.id, changes)
        return ad

    async def serve(self, channel: str, user_id: uuid.UUID | None, city: str | None,
                    session_id: str | None, now: datetime) -> list[tuple[Ad, uuid.UUID]]:
        """Active ads whose rules match the viewer, each with its logged impression."""
        flag = await self.session.get(FeatureFlag, "ads")
        if flag is not None and not flag.enabled:
            return []
        customer = await Customers(self.session).get(user_id) if user_id else None
        facts = {"channel": channel, "hour": now.hour, "weekday": now.isoweekday(),
                 "city": city or (customer.city if customer else None),
                 "segment": customer.segment if customer else "guest"}
        served = []
        for ad in await self.repo.live(now):
            if domain.rule_matches(ad.target_rules or {}, facts):
                impression = AdImpression(id=uuid.uuid4(), occurred_at=now, ad_id=ad.id,
                                          customer_id=customer.user_id if customer else None,
                                          session_id=session_id, channel=channel,
                                          details={"city": facts["city"]})
                self.session.add(impression)
                served.append((ad, impression.id))
        return served
