"""Identity tables: users, refresh tokens, password resets, runner applications, referrals."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kilat.platform.models import Entity, UTCDateTime, VersionMixin, service_base, utcnow
from kilat.services.identity.domain import ApplicationStatus, Role


ROLE_LIST = ", ".join(f"'{role}'" for role in Role)

Base = service_base("identity")
metadata = Base.metadata


class User(Base, Entity, VersionMixin):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({ROLE_LIST})", name="role"),
        Index("ix_users_created_at", "created_at"),
        Index("uq_users_verified_phone", "verified_phone", unique=True),
    )

    # None for an account made by phone sign-in (it has no password either)
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    # the E.164 number proven by a sign-in code: phone sign-in finds the account by it
    verified_phone: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(20))
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    is_banned: Mapped[bool] = mapped_column(Boolean, default=False)
    banned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    avatar_url: Mapped[str | None] = mapped_column(Text)


class RefreshToken(Base):
    """One issued refresh token; ``id`` is its ``jti``. Rotation keeps the ``family_id``."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PasswordReset(Base):
    """A reset token; only its SHA-256 digest is kept."""

    __tablename__ = "password_resets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RunnerApplication(Base, Entity):
    __tablename__ = "runner_applications"
    __table_args__ = (UniqueConstraint("year", "sequence", name="uq_runner_applications_year_sequence"),)

    application_id: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str] = mapped_column(String(20))
    ic_number: Mapped[str] = mapped_column(String(20), unique=True)
    vehicle_type: Mapped[str] = mapped_column(String(20))
    plate_number: Mapped[str | None] = mapped_column(String(20))
    pet_experience: Mapped[list] = mapped_column()
    comfortable_with_live_pets: Mapped[bool] = mapped_column(Boolean)
    consent_acknowledged: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.PENDING_REVIEW)


class ApplicationCounter(Base):
    """Last application sequence number handed out per year; its row lock serialises numbering."""

    __tablename__ = "runner_application_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_sequence: Mapped[int] = mapped_column(Integer, default=0)


class ReferralCode(Base):
    __tablename__ = "user_referral_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Referral(Base, Entity):
    __tablename__ = "referrals"
    __table_args__ = (CheckConstraint("referrer_id <> referee_id", name="not_self"),)

    referrer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    referee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), unique=True)
    code: Mapped[str] = mapped_column(String(12))
    reward_amount_cents: Mapped[int] = mapped_column(Integer)
    referrer_credited: Mapped[bool] = mapped_column(Boolean, default=False)
    referee_credited: Mapped[bool] = mapped_column(Boolean, default=False)


class OtpCode(Base):
    """A sign-in code sent to a phone number; only its HMAC is kept. ``consumed_at`` ends it:
    signed in with, or replaced by a newer code."""

    __tablename__ = "otp_codes"
    __table_args__ = (Index("ix_otp_codes_phone_created_at", "phone", "created_at"),
                      Index("ix_otp_codes_created_at", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    phone: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
