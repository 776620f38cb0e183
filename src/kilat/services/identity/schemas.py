"""Identity request and response bodies: snake_case, camelCase only where the clients send it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator
from pydantic.json_schema import SkipJsonSchema

from kilat.platform.schemas import OptionalWebUrl, Schema
from kilat.services.identity.domain import PetExperience, Role, VehicleType


def text(max_length: int, *, min_length: int = 0):
    """A trimmed string bounded in length (the kernel's Schema refuses what no column can store)."""
    return Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)
    ]


Email = text(255)
Password = Annotated[str, StringConstraints(max_length=128)]
Token = text(4096)
Name = text(255, min_length=1)
OptionalName = text(255)
Phone = text(20)
ReferralCodeInput = text(32)
ResetToken = text(128)
Reason = text(500)
IcNumber = text(32, min_length=1)
PlateNumber = text(20)


class RegisterRequest(Schema):
    email: Email
    password: Password
    full_name: Name
    phone: Phone | None = None
    role: Role
    referral_code: ReferralCodeInput | None = None


class OtpRequest(Schema):
    phone: Phone = Field(description="E.164 (+6281234567890), or a national number read in "
                                     "KILAT_IDENTITY_DEFAULT_PHONE_REGION")


class OtpVerify(Schema):
    phone: Phone
    code: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
    role: Role | None = Field(None, description="required on a number's first sign-in "
                                                "(passenger or driver)")
    full_name: OptionalName | None = None


class CodeSent(Schema):
    expires_in_seconds: int
    resend_after_seconds: int


class StaffCreate(Schema):
    """A staff account an admin creates (gate staff of rail stations)."""

    email: Email
    password: Password
    full_name: Name
    role: Literal[Role.GATE]


class LoginRequest(Schema):
    email: Email
    password: Password


class RefreshRequest(Schema):
    refresh_token: Token


class LogoutRequest(Schema):
    refresh_token: Token | None = Field(
        None, description="revoke this token's session; without it every session of the caller ends"
    )


class ProfileUpdate(Schema):
    """Partial update: omitted or empty fields keep their value."""

    full_name: OptionalName | None = None
    phone: Phone | None = None
    avatar_url: OptionalWebUrl = None


class ForgotPasswordRequest(Schema):
    email: Email


class ResetPasswordRequest(Schema):
    token: ResetToken
    new_password: Password = Field(alias="newPassword")


class BanRequest(Schema):
    reason: Reason | None = None


class User(Schema):
    id: uuid.UUID
    email: str = Field("", description="empty for an account made by phone sign-in")
    phone: str = ""
    full_name: str
    role: Role
    is_verified: bool
    is_banned: bool
    avatar_url: str | SkipJsonSchema[None] = Field(None, description="omitted when empty")
    created_at: datetime

    @field_validator("email", "phone", mode="before")
    @classmethod
    def _or_empty(cls, value: str | None) -> str:
        return value or ""


class AuthResponse(Schema):
    access_token: str
    refresh_token: str
    user: User


class RunnerApplicationCreate(Schema):
    """The public runner sign-up form (camelCase, as the web and iOS clients send it)."""

    name: Name
    phone: Phone
    ic_number: IcNumber = Field(alias="icNumber")
    vehicle_type: VehicleType = Field(alias="vehicleType")
    plate_number: PlateNumber | None = Field(None, alias="plateNumber",
                                          description="required for a car, van or motorcycle")
    pet_experience: list[PetExperience] = Field(default_factory=list, alias="petExperience",
                                                max_length=len(PetExperience))
    comfortable_with_live_pets: bool = Field(False, alias="comfortableWithLivePets")
    consent_acknowledged: bool = Field(False, alias="consentAcknowledged",
                                       description="must be true")


class RunnerApplicationReceipt(Schema):
    application_id: str = Field(alias="applicationId", examples=["KR-2026-00001"])


class ReferralCode(Schema):
    referral_code: str = Field(examples=["REF-1a2b3c4d"])


class Referral(Schema):
    id: uuid.UUID
    referee_id: uuid.UUID
    reward_amount_cents: int
    referrer_credited: bool
    referee_credited: bool
    created_at: datetime


class ReferralStats(Schema):
    referral_code: str
    total_referrals: int
    referrals: list[Referral]


class UserStats(Schema):
    total_users: int
    by_role: dict[str, int]


class Jwk(Schema):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class JwkSet(Schema):
    keys: list[Jwk]
