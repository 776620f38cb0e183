"""Events the identity service publishes."""

from __future__ import annotations

import uuid

from kilat.contracts.base import Contract, Time


class Contact(Contract):
    SUBJECT = "user_id"

    user_id: uuid.UUID
    email: str | None = None
    full_name: str | None = None
    phone: str | None = None


class UserRegistered(Contact):
    TYPE = "identity.user_registered"

    role: str | None = None
    referral_code_used: str | None = None


class ProfileUpdated(Contact):
    TYPE = "identity.profile_updated"


class UserBanned(Contract):
    """Every process reads these at start to learn the bans in force; the event's time is the ban's."""

    TYPE = "identity.user_banned"
    SUBJECT = "user_id"

    user_id: uuid.UUID
    email: str | None = None
    role: str | None = None
    banned_by: uuid.UUID | None = None
    reason: str | None = None


class PasswordResetRequested(Contract):
    """Carries the raw token to the notification service, which delivers it; only its hash is stored."""

    TYPE = "identity.password_reset_requested"
    SUBJECT = "user_id"

    user_id: uuid.UUID
    email: str
    full_name: str | None = None
    token: str
    expires_at: Time


class SignInCodeRequested(Contract):
    """Carries a phone sign-in code to the notification service, which texts it to ``phone``
    (the number may have no account yet); identity keeps only the code's HMAC."""

    TYPE = "identity.sign_in_code_requested"
    SUBJECT = "phone"

    code_id: uuid.UUID
    phone: str
    code: str
    expires_at: Time
    valid_seconds: int | None = None  # how long the code lives from its sending
    user_id: uuid.UUID | None = None  # the number's account, when it has one


class ReferralRecorded(Contract):
    TYPE = "identity.referral_recorded"
    SUBJECT = "referrer_id"

    referral_id: uuid.UUID
    referrer_id: uuid.UUID
    referee_id: uuid.UUID
    code: str
    reward_amount_cents: int | None = None
