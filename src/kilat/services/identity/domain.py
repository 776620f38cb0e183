"""Identity rules without I/O: credentials, roles, token states, application ids, referral codes."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from kilat.contracts import VehicleType
from kilat.platform.errors import BadRequest, Forbidden
from kilat.services.identity.otp import to_e164

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt ignores (and bcrypt 5 refuses) anything longer
PHONE_PATTERN = re.compile(r"\+?[0-9]{7,15}")
IC_NUMBER_PATTERN = re.compile(r"[0-9A-Z]{6,20}")
REFERRAL_CODE_PATTERN = re.compile(r"REF-[0-9a-f]{8}")
REFERRAL_REWARD_CENTS = 500


class Role(StrEnum):
    OWNER = "owner"
    RUNNER = "runner"
    SHOP = "shop"
    ADMIN = "admin"
    PASSENGER = "passenger"  # rides and rail: one traveller account
    DRIVER = "driver"  # rides
    CUSTOMER = "customer"  # parcels
    COURIER = "courier"  # parcels
    GATE = "gate"  # rail gate staff, created by an admin


SELF_REGISTRABLE_ROLES = frozenset({Role.OWNER, Role.RUNNER, Role.SHOP, Role.PASSENGER,
                                    Role.DRIVER, Role.CUSTOMER, Role.COURIER})
# the pets roles keep their phone as given (the clients' formats); the others store E.164
E164_ROLES = frozenset({Role.PASSENGER, Role.DRIVER, Role.CUSTOMER, Role.COURIER, Role.GATE})


class PetExperience(StrEnum):
    DOGS = "dogs"
    CATS = "cats"
    BIRDS = "birds"
    FISH = "fish"
    SMALL_PETS = "small_pets"
    VET_TRIPS = "vet_trips"


class ApplicationStatus(StrEnum):
    PENDING_REVIEW = "pending_review"


class RefreshState(StrEnum):
    ACTIVE = "active"
    SPENT = "spent"
    REVOKED = "revoked"
    EXPIRED = "expired"


def canonical_email(raw: str) -> str:
    """The form emails are stored and looked up in: trimmed and lower-cased."""
    return raw.strip().lower()


def normalize_email(raw: str) -> str:
    email = canonical_email(raw)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadRequest("invalid email format", str(exc)) from exc
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password_bytes(password)) > MAX_PASSWORD_BYTES:
        raise BadRequest(f"password must be at most {MAX_PASSWORD_BYTES} bytes")


def password_bytes(password: str) -> bytes:
    # surrogatepass: JSON may carry lone surrogates; they must hash, not crash
    return password.encode("utf-8", "surrogatepass")


def normalize_phone(raw: str | None) -> str | None:
    """A trimmed phone number, or None when none was given."""
    phone = (raw or "").strip()
    if not phone:
        return None
    if not PHONE_PATTERN.fullmatch(phone):
        raise BadRequest("invalid phone number format", "expected 7 to 15 digits, optionally after +")
    return phone


def contact_phone(raw: str | None, role: Role, region: str) -> str | None:
    """An account's phone: E.164 for the verticals' roles, the pets rule for the others."""
    if role not in E164_ROLES:
        return normalize_phone(raw)
    if not (raw or "").strip():
        return None
    return to_e164(raw, region)


def normalize_avatar_url(raw: str) -> str:
    url = raw.strip()
    try:
        parsed = urlsplit(url)
    except ValueError as exc:  # an unbalanced "[" reads as a broken IPv6 host
        raise BadRequest("avatar_url must be an http(s) URL", str(exc)) from exc
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BadRequest("avatar_url must be an http(s) URL")
    return url


def profile_changes(*, full_name: str | None, phone: str | None, avatar_url: str | None,
                    role: Role = Role.OWNER, region: str = "ID") -> dict[str, str]:
    """The fields a partial profile update sets; empty values are ignored."""
    changes: dict[str, str] = {}
    if full_name and full_name.strip():
        changes["full_name"] = full_name.strip()
    if phone and (normalized := contact_phone(phone, role, region)):
        changes["phone"] = normalized
    if avatar_url and avatar_url.strip():
        changes["avatar_url"] = normalize_avatar_url(avatar_url)
    return changes


def ensure_self_registrable(role: Role) -> None:
    if role not in SELF_REGISTRABLE_ROLES:
        raise Forbidden(f"cannot self-register as {role}", "admins are created by `kilat admin create`")


def refresh_state(*, used_at: datetime | None, revoked_at: datetime | None,
                  expires_at: datetime, now: datetime) -> RefreshState:
    if revoked_at is not None:
        return RefreshState.REVOKED
    if used_at is not None:
        return RefreshState.SPENT
    if expires_at <= now:
        return RefreshState.EXPIRED
    return RefreshState.ACTIVE


def new_reset_token() -> str:
    return secrets.token_hex(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_reset_token(*, used_at: datetime | None, expires_at: datetime, now: datetime) -> None:
    if used_at is not None:
        raise BadRequest("token already used")
    if expires_at <= now:
        raise BadRequest("token expired")


def application_id(year: int, sequence: int) -> str:
    """Display id of a runner application: ``KR-<year>-<5-digit sequence within the year>``."""
    return f"KR-{year:04d}-{sequence:05d}"


def normalize_ic_number(raw: str) -> str:
    ic_number = re.sub(r"[\s-]", "", raw).upper()
    if not IC_NUMBER_PATTERN.fullmatch(ic_number):
        raise BadRequest("invalid IC number", "expected 6 to 20 letters or digits")
    return ic_number


def check_runner_vehicle(vehicle: VehicleType, plate_number: str | None) -> None:
    if vehicle.motorised and not plate_number:
        raise BadRequest(f"plateNumber is required for a {vehicle}")


def check_consent(acknowledged: bool) -> None:
    if not acknowledged:
        raise BadRequest("consent must be acknowledged", "consentAcknowledged must be true")


def new_referral_code() -> str:
    return f"REF-{secrets.token_hex(4)}"


def normalize_referral_code(raw: str) -> str:
    """Accept any case and surrounding spaces; codes are stored as ``REF-`` + lowercase hex."""
    code = raw.strip()
    code = code[:4].upper() + code[4:].lower()
    if not REFERRAL_CODE_PATTERN.fullmatch(code):
        raise BadRequest("invalid referral code")
    return code
