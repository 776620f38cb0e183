"""Events identity publishes (through the outbox, in the caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform import revocations
from kilat.platform.events import record_event
from kilat.services.identity.models import Referral, User

USER_REGISTERED = "identity.user_registered"
USER_BANNED = revocations.BAN_EVENT  # every process reads these at start to learn the bans
PROFILE_UPDATED = "identity.profile_updated"
PASSWORD_RESET_REQUESTED = "identity.password_reset_requested"
REFERRAL_RECORDED = "identity.referral_recorded"


def _contact(user: User) -> dict:
    return {"user_id": str(user.id), "email": user.email, "full_name": user.full_name,
            "phone": user.phone}


async def user_registered(session: AsyncSession, user: User, *, referral_code_used: str | None) -> None:
    data = _contact(user) | {"role": str(user.role), "referral_code_used": referral_code_used}
    await record_event(session, USER_REGISTERED, data, subject=str(user.id))


async def profile_updated(session: AsyncSession, user: User) -> None:
    await record_event(session, PROFILE_UPDATED, _contact(user), subject=str(user.id))


async def user_banned(session: AsyncSession, user: User, *, banned_by: uuid.UUID,
                      reason: str | None) -> None:
    data = {"user_id": str(user.id), "email": user.email, "role": str(user.role),
            "banned_by": str(banned_by), "reason": reason}
    await record_event(session, USER_BANNED, data, subject=str(user.id))


async def password_reset_requested(session: AsyncSession, user: User, token: str,
                                   expires_at: datetime) -> None:
    # the raw token travels to the notification service, which delivers it; only its hash is stored
    data = {"user_id": str(user.id), "email": user.email, "full_name": user.full_name,
            "token": token, "expires_at": expires_at.isoformat()}
    await record_event(session, PASSWORD_RESET_REQUESTED, data, subject=str(user.id))


async def referral_recorded(session: AsyncSession, referral: Referral) -> None:
    data = {"referral_id": str(referral.id), "referrer_id": str(referral.referrer_id),
            "referee_id": str(referral.referee_id), "code": referral.code,
            "reward_amount_cents": referral.reward_amount_cents}
    await record_event(session, REFERRAL_RECORDED, data, subject=str(referral.referrer_id))

