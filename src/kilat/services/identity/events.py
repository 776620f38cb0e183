"""Events identity publishes (through the outbox, in the caller's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kilat.contracts.identity import (
    PasswordResetRequested,
    ProfileUpdated,
    ReferralRecorded,
    SignInCodeRequested,
    UserBanned,
    UserRegistered,
)
from kilat.platform.events import record_event
from kilat.services.identity.models import OtpCode, Referral, User


def _contact(user: User) -> dict:
    return {"user_id": user.id, "email": user.email, "full_name": user.full_name,
            "phone": user.phone}


async def user_registered(session: AsyncSession, user: User, *, referral_code_used: str | None) -> None:
    await record_event(session, UserRegistered(**_contact(user), role=str(user.role),
                                               referral_code_used=referral_code_used))


async def profile_updated(session: AsyncSession, user: User) -> None:
    await record_event(session, ProfileUpdated(**_contact(user)))


async def user_banned(session: AsyncSession, user: User, *, banned_by: uuid.UUID,
                      reason: str | None) -> None:
    await record_event(session, UserBanned(user_id=user.id, email=user.email, role=str(user.role),
                                           banned_by=banned_by, reason=reason))


async def password_reset_requested(session: AsyncSession, user: User, token: str,
                                   expires_at: datetime) -> None:
    await record_event(session, PasswordResetRequested(
        user_id=user.id, email=user.email, full_name=user.full_name, token=token,
        expires_at=expires_at))


async def sign_in_code_requested(session: AsyncSession, otp: OtpCode, code: str,
                                 user: User | None) -> None:
    valid = int((otp.expires_at - otp.created_at).total_seconds())
    await record_event(session, SignInCodeRequested(
        code_id=otp.id, phone=otp.phone, code=code, expires_at=otp.expires_at,
        valid_seconds=valid, user_id=user.id if user else None))


async def referral_recorded(session: AsyncSession, referral: Referral) -> None:
    await record_event(session, ReferralRecorded(
        referral_id=referral.id, referrer_id=referral.referrer_id, referee_id=referral.referee_id,
        code=referral.code, reward_amount_cents=referral.reward_amount_cents))
