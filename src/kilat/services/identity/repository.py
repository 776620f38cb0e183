"""All identity queries."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, literal, select, update

from kilat.platform.repository import Repository
from kilat.platform.models import UTCDateTime
from kilat.services.identity.models import (
    ApplicationCounter,
    OtpCode,
    PasswordReset,
    Referral,
    ReferralCode,
    RefreshToken,
    RunnerApplication,
    User,
)


class Users(Repository[User]):
    model, entity = User, "user"

    async def banned_since(self, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
        rows = await self.session.execute(
            select(User.id, User.banned_at).where(User.is_banned.is_(True),
                                                   User.banned_at > since))
        return [(row.id, row.banned_at) for row in rows]

    async def by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email))

    async def by_verified_phone(self, phone: str) -> User | None:
        return await self.session.scalar(select(User).where(User.verified_phone == phone))

    async def page(self, offset: int, limit: int) -> tuple[list[User], int]:
        total = await self.session.scalar(select(func.count()).select_from(User))
        rows = await self.session.scalars(
            select(User).order_by(User.created_at.desc(), User.id.desc()).offset(offset).limit(limit)
        )
        return list(rows), total or 0

    async def count_by_role(self) -> dict[str, int]:
        rows = await self.session.execute(select(User.role, func.count()).group_by(User.role))
        return {role: count for role, count in rows.all()}


class RefreshTokens(Repository[RefreshToken]):
    model = RefreshToken

    async def spend(self, jti: uuid.UUID, now: datetime) -> bool:
        """Mark the token used; False when it was already used or revoked (by a concurrent call too)."""
        statement = (
            update(RefreshToken)
            .where(RefreshToken.id == jti, RefreshToken.used_at.is_(None),
                   RefreshToken.revoked_at.is_(None))
            .values(used_at=now)
        )
        return await self.update_rows(statement) == 1

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> int:
        return await self.update_rows(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_of(self, user_id: uuid.UUID, now: datetime) -> int:
        return await self.update_rows(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class PasswordResets(Repository):
    async def by_digest(self, digest: str) -> PasswordReset | None:
        return await self.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == digest))

    async def consume(self, reset_id: uuid.UUID, now: datetime) -> bool:
        """Mark the token used; False when a concurrent reset used it first."""
        statement = (
            update(PasswordReset)
            .where(PasswordReset.id == reset_id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )
        return await self.update_rows(statement) == 1

    async def consume_all_of(self, user_id: uuid.UUID, now: datetime) -> int:
        return await self.update_rows(
            update(PasswordReset)
            .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        )


class OtpCodes(Repository[OtpCode]):
    model = OtpCode

    async def latest(self, phone: str) -> OtpCode | None:
        """The number's newest code, live or not (its time decides the resend cooldown)."""
        return await self.session.scalar(
            select(OtpCode).where(OtpCode.phone == phone)
            .order_by(OtpCode.created_at.desc(), OtpCode.id.desc()).limit(1))

    async def sent_since(self, phone: str, since: datetime) -> list[datetime]:
        """When the number's codes created after ``since`` were sent, oldest first."""
        rows = await self.session.scalars(
            select(OtpCode.created_at).where(OtpCode.phone == phone, OtpCode.created_at > since)
            .order_by(OtpCode.created_at))
        return list(rows)

    async def end_live(self, phone: str, now: datetime) -> int:
        """End every unconsumed code of the number (a new one replaces them)."""
        return await self.update_rows(
            update(OtpCode).where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None))
            .values(consumed_at=now))

    async def take_attempt(self, code_id: uuid.UUID, max_attempts: int) -> int | None:
        """Count one attempt on a live code; its attempt number, or None when none was left
        (concurrent attempts each take their own)."""
        return await self.session.scalar(
            update(OtpCode)
            .where(OtpCode.id == code_id, OtpCode.consumed_at.is_(None),
                   OtpCode.attempts < max_attempts)
            .values(attempts=OtpCode.attempts + 1)
            .returning(OtpCode.attempts)
            .execution_options(synchronize_session=False))

    async def consume(self, code_id: uuid.UUID, now: datetime) -> bool:
        """Spend the code; False when a concurrent sign-in spent it first."""
        return await self.update_rows(
            update(OtpCode).where(OtpCode.id == code_id, OtpCode.consumed_at.is_(None))
            .values(consumed_at=now)) == 1

    async def prune(self, before: datetime) -> int:
        """Forget codes created before ``before`` (long expired)."""
        return await self.update_rows(delete(OtpCode).where(OtpCode.created_at < before))


class RunnerApplications(Repository):
    async def ic_number_taken(self, ic_number: str) -> bool:
        found = await self.session.scalar(
            select(RunnerApplication.id).where(RunnerApplication.ic_number == ic_number)
        )
        return found is not None

    async def next_sequence(self, year: int) -> int:
        """The next number of ``year``; the counter row stays locked until the transaction ends."""
        await self.session.execute(
            self.insert(ApplicationCounter).values(year=year, last_sequence=0).on_conflict_do_nothing()
        )
        return await self.session.scalar(
            update(ApplicationCounter)
            .where(ApplicationCounter.year == year)
            .values(last_sequence=ApplicationCounter.last_sequence + 1)
            .returning(ApplicationCounter.last_sequence)
            .execution_options(synchronize_session=False)
        )


class Referrals(Repository):
    async def code_of(self, user_id: uuid.UUID) -> str | None:
        return await self.session.scalar(select(ReferralCode.code).where(ReferralCode.user_id == user_id))

    async def add_code_if_missing(self, user_id: uuid.UUID, code: str, now: datetime) -> None:
        """Give an existing user ``code`` unless they have one (or another user holds it)."""
        source = select(User.id, literal(code), literal(now, UTCDateTime())).where(User.id == user_id)
        await self.session.execute(
            self.insert(ReferralCode)
            .from_select(["user_id", "code", "created_at"], source)
            .on_conflict_do_nothing()
        )

    async def owner_of(self, code: str) -> User | None:
        return await self.session.scalar(
            select(User).join(ReferralCode, ReferralCode.user_id == User.id).where(ReferralCode.code == code)
        )

    async def made_by(self, referrer_id: uuid.UUID) -> list[Referral]:
        rows = await self.session.scalars(
            select(Referral)
            .where(Referral.referrer_id == referrer_id)
            .order_by(Referral.created_at.desc(), Referral.id.desc())
        )
        return list(rows)
