"""Identity business rules: accounts, sessions (token families), password resets, admin."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.auth import Principal, TokenIssuer, TokenVerifier, public_jwk
from kilat.platform.errors import BadRequest, Conflict, Forbidden, Unauthorized, not_found
from kilat.platform.models import utcnow
from kilat.platform.schemas import PageParams
from kilat.services.identity import events
from kilat.services.identity.domain import (
    REFERRAL_REWARD_CENTS,
    ApplicationStatus,
    RefreshState,
    Role,
    application_id,
    canonical_email,
    check_consent,
    check_password,
    check_reset_token,
    contact_phone,
    check_runner_vehicle,
    ensure_self_registrable,
    new_referral_code,
    new_reset_token,
    normalize_email,
    normalize_ic_number,
    normalize_phone,
    normalize_referral_code,
    profile_changes,
    refresh_state,
    token_digest,
)
from kilat.services.identity.models import (
    PasswordReset,
    Referral,
    RefreshToken,
    RunnerApplication,
    User,
)
from kilat.services.identity.passwords import PasswordHasher
from kilat.services.identity.repository import (
    PasswordResets,
    Referrals,
    RefreshTokens,
    RunnerApplications,
    Users,
)
from kilat.services.identity.schemas import ProfileUpdate, RegisterRequest, RunnerApplicationCreate

INVALID_TOKEN = "invalid or expired token"
REFERRAL_CODE_ATTEMPTS = 5


class RefreshTokenReused(Unauthorized):
    """A spent refresh token came back: its whole family is revoked.

    Raised after the revocation was written; the caller must keep (commit) that write.
    """

    def __init__(self) -> None:
        super().__init__(INVALID_TOKEN, "refresh token was already used; its session has been revoked")


@dataclass(frozen=True)
class Authority:
    """What identity needs to vouch for users: signing keys, password hashing, reset lifetime."""

    issuer: TokenIssuer
    verifier: TokenVerifier
    passwords: PasswordHasher
    reset_ttl: timedelta
    phone_region: str = "ID"  # of numbers given without +

    def jwks(self) -> dict:
        # TokenIssuer exposes no public key of its own; the kernel keeps it private
        return {"keys": [public_jwk(self.issuer.public_key)]}


@dataclass(frozen=True)
class AuthResult:
    access_token: str
    refresh_token: str
    user: User


async def register(session: AsyncSession, authority: Authority, data: RegisterRequest) -> AuthResult:
    """Create a self-registrable account (optionally referred) and start its first session."""
    ensure_self_registrable(data.role)
    email = normalize_email(data.email)
    check_password(data.password)
    phone = contact_phone(data.phone, data.role, authority.phone_region)
    code = normalize_referral_code(data.referral_code) if data.referral_code else None
    password_hash = await authority.passwords.hash(data.password)
    if await Users(session).by_email(email) is not None:
        raise _email_taken(email)
    referrer = await _referrer(session, code) if code else None
    user = User(email=email, phone=phone, full_name=data.full_name, role=data.role,
                password_hash=password_hash, is_verified=False, is_banned=False)
    await _add_user(session, user)
    if referrer is not None:
        await _record_referral(session, referrer, user, code)
    await events.user_registered(session, user, referral_code_used=code)
    return await start_session(session, authority, user)


async def login(session: AsyncSession, authority: Authority, email: str, password: str) -> AuthResult:
    user = await Users(session).by_email(canonical_email(email))
    if not await authority.passwords.verify(password, user.password_hash if user else None):
        raise Unauthorized("invalid email or password")
    if user.is_banned:
        raise Forbidden("account is banned")
    return await start_session(session, authority, user)


async def refresh(session: AsyncSession, authority: Authority, token: str) -> AuthResult:
    """Rotate: spend the presented refresh token and issue the next one of its family."""
    jti, family_id, _ = _refresh_claims(authority, token)
    tokens = RefreshTokens(session)
    row = await tokens.get(jti)
    if row is None or row.family_id != family_id:
        raise Unauthorized(INVALID_TOKEN)
    now = utcnow()
    state = refresh_state(used_at=row.used_at, revoked_at=row.revoked_at,
                          expires_at=row.expires_at, now=now)
    if state is RefreshState.SPENT:
        await tokens.revoke_family(family_id, now)
        raise RefreshTokenReused()
    if state is not RefreshState.ACTIVE:
        raise Unauthorized(INVALID_TOKEN)
    if not await tokens.spend(jti, now):
        await tokens.revoke_family(family_id, now)
        raise RefreshTokenReused()
    user = await Users(session).get(row.user_id)
    if user is None or user.is_banned:
        raise Unauthorized(INVALID_TOKEN)
    return await start_session(session, authority, user, family_id)


async def logout(session: AsyncSession, authority: Authority, caller: Principal,
                 refresh_token: str | None) -> None:
    """End the session of ``refresh_token``, or every session of the caller when none is given."""
    tokens = RefreshTokens(session)
    if refresh_token is None:
        await tokens.revoke_all_of(caller.user_id, utcnow())
        return
    _, family_id, user_id = _refresh_claims(authority, refresh_token)
    if user_id != caller.user_id:
        raise Forbidden("refresh token belongs to another user")
    await tokens.revoke_family(family_id, utcnow())


async def profile(session: AsyncSession, caller: Principal) -> User:
    return await _active_user(session, caller.user_id)


async def update_profile(session: AsyncSession, caller: Principal, data: ProfileUpdate,
                         region: str = "ID") -> User:
    """Partial update; empty fields are ignored. The number phone sign-in uses stays as proven."""
    user = await _active_user(session, caller.user_id)
    changes = profile_changes(full_name=data.full_name, phone=data.phone,
                              avatar_url=data.avatar_url, role=user.role, region=region)
    if any(getattr(user, field) != value for field, value in changes.items()):
        for field, value in changes.items():
            setattr(user, field, value)
        await session.flush()
        await events.profile_updated(session, user)
    return user


async def request_password_reset(session: AsyncSession, authority: Authority, email: str) -> None:
    """Issue a reset token for a known, active account; silently nothing otherwise."""
    user = await Users(session).by_email(normalize_email(email))
    if user is None or user.is_banned:
        return
    token = new_reset_token()
    reset = PasswordReset(user_id=user.id, token_hash=token_digest(token),
                          expires_at=utcnow() + authority.reset_ttl)
    session.add(reset)
    await events.password_reset_requested(session, user, token, reset.expires_at)


async def reset_password(session: AsyncSession, authority: Authority, token: str, new_password: str) -> None:
    check_password(new_password)
    password_hash = await authority.passwords.hash(new_password)
    resets = PasswordResets(session)
    reset = await resets.by_digest(token_digest(token))
    if reset is None:
        raise BadRequest("invalid token")
    now = utcnow()
    check_reset_token(used_at=reset.used_at, expires_at=reset.expires_at, now=now)
    if not await resets.consume(reset.id, now):
        raise BadRequest("token already used")
    user = await Users(session).get(reset.user_id)
    user.password_hash = password_hash
    await session.flush()
    await resets.consume_all_of(user.id, now)
    await RefreshTokens(session).revoke_all_of(user.id, now)


async def apply_as_runner(session: AsyncSession, data: RunnerApplicationCreate) -> RunnerApplication:
    """File a public runner application; numbered ``KR-<year>-<n>`` within its year."""
    check_consent(data.consent_acknowledged)
    phone = normalize_phone(data.phone)
    if phone is None:
        raise BadRequest("phone is required")
    ic_number = normalize_ic_number(data.ic_number)
    plate_number = (data.plate_number or "").upper() or None
    check_runner_vehicle(data.vehicle_type, plate_number)
    applications = RunnerApplications(session)
    if await applications.ic_number_taken(ic_number):
        raise _ic_number_taken()
    year = utcnow().year
    sequence = await applications.next_sequence(year)
    application = RunnerApplication(
        application_id=application_id(year, sequence), year=year, sequence=sequence,
        name=data.name, phone=phone, ic_number=ic_number, vehicle_type=data.vehicle_type,
        plate_number=plate_number, pet_experience=list(dict.fromkeys(data.pet_experience)),
        comfortable_with_live_pets=data.comfortable_with_live_pets,
        consent_acknowledged=True, status=ApplicationStatus.PENDING_REVIEW,
    )
    session.add(application)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _ic_number_taken() from exc
    return application


async def referral_code(session: AsyncSession, caller: Principal) -> str:
    """The caller's referral code, created on first request."""
    referrals = Referrals(session)
    for _ in range(REFERRAL_CODE_ATTEMPTS):
        # the write comes first so SQLite upgrades this read transaction before it reads
        await referrals.add_code_if_missing(caller.user_id, new_referral_code(), utcnow())
        code = await referrals.code_of(caller.user_id)
        await _active_user(session, caller.user_id)
        if code is not None:
            return code
    raise Conflict("could not allocate a referral code", "retry the request")


async def referral_stats(session: AsyncSession, caller: Principal) -> dict:
    code = await referral_code(session, caller)
    made = await Referrals(session).made_by(caller.user_id)
    return {"referral_code": code, "total_referrals": len(made), "referrals": made}


async def list_users(session: AsyncSession, paging: PageParams) -> tuple[list[User], int]:
    return await Users(session).page(paging.offset, paging.limit)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await Users(session).get(user_id)
    if user is None:
        raise not_found("User", user_id)
    return user


async def ban_user(session: AsyncSession, admin: Principal, user_id: uuid.UUID,
                   reason: str | None) -> bool:
    """Ban a non-admin account and end its sessions; banning twice changes nothing (False).
    The caller announces the ban once it has committed, so access tokens stop at once."""
    user = await get_user(session, user_id)
    if user.role == Role.ADMIN:
        raise Forbidden("cannot ban an admin", "admins, yourself included, cannot be banned")
    if user.is_banned:
        return False
    now = utcnow()
    user.is_banned = True
    user.banned_at = now
    await session.flush()
    await RefreshTokens(session).revoke_all_of(user.id, now)
    await events.user_banned(session, user, banned_by=admin.user_id, reason=reason)
    return True


async def recent_bans(session: AsyncSession, since: datetime) -> list[tuple[uuid.UUID, datetime]]:
    """Users banned after ``since``: their access tokens may still be unexpired."""
    return await Users(session).banned_since(since)


async def user_stats(session: AsyncSession) -> dict:
    by_role = await Users(session).count_by_role()
    return {"total_users": sum(by_role.values()), "by_role": by_role}


async def create_staff(session: AsyncSession, passwords: PasswordHasher, email: str,
                       password: str, full_name: str, role: Role) -> User:
    """An account only an admin makes (gate staff): verified, no self sign-up."""
    email = normalize_email(email)
    check_password(password)
    password_hash = await passwords.hash(password)
    if await Users(session).by_email(email) is not None:
        raise _email_taken(email)
    user = User(email=email, full_name=full_name, role=role, password_hash=password_hash,
                is_verified=True, is_banned=False)
    await _add_user(session, user)
    await events.user_registered(session, user, referral_code_used=None)
    return user


async def create_admin(session: AsyncSession, email: str, password: str,
                       full_name: str = "Administrator", *,
                       passwords: PasswordHasher | None = None) -> User:
    """Create an admin, or make the account with this email an admin with this password."""
    email = normalize_email(email)
    check_password(password)
    password_hash = await (passwords or PasswordHasher()).hash(password)
    user = await Users(session).by_email(email)
    if user is None:
        user = User(email=email, full_name=full_name, role=Role.ADMIN, password_hash=password_hash,
                    is_verified=True, is_banned=False)
        await _add_user(session, user)
        await events.user_registered(session, user, referral_code_used=None)
        return user
    user.role = Role.ADMIN
    user.password_hash = password_hash
    user.is_verified = True
    user.is_banned = False
    user.banned_at = None
    await session.flush()
    await RefreshTokens(session).revoke_all_of(user.id, utcnow())
    return user


async def start_session(session: AsyncSession, authority: Authority, user: User,
                         family_id: uuid.UUID | None = None) -> AuthResult:
    jti, family_id = uuid.uuid4(), family_id or uuid.uuid4()
    now = utcnow()
    session.add(RefreshToken(id=jti, user_id=user.id, family_id=family_id, created_at=now,
                        expires_at=now + timedelta(seconds=authority.issuer.refresh_ttl)))
    await session.flush()
    return AuthResult(
        access_token=authority.issuer.access_token(user.id, user.email or "", user.role),
        refresh_token=authority.issuer.refresh_token(user.id, jti, family_id),
        user=user,
    )


def _refresh_claims(authority: Authority, token: str) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """(jti, family id, user id) of a valid refresh token."""
    claims = authority.verifier.decode(token, "refresh")
    try:
        return uuid.UUID(claims["jti"]), uuid.UUID(claims["fam"]), uuid.UUID(claims["user_id"])
    except (KeyError, TypeError, ValueError) as exc:
        raise Unauthorized(INVALID_TOKEN) from exc


async def _active_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await get_user(session, user_id)
    if user.is_banned:
        raise Forbidden("account is banned")
    return user


async def _add_user(session: AsyncSession, user: User) -> None:
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _email_taken(user.email) from exc


def _ic_number_taken() -> Conflict:
    return Conflict("a runner application with this IC number already exists")


def _email_taken(email: str) -> Conflict:
    return Conflict(f"User with email '{email}' already exists")


async def _referrer(session: AsyncSession, code: str) -> User:
    referrer = await Referrals(session).owner_of(code)
    if referrer is None or referrer.is_banned:
        raise BadRequest("invalid referral code")
    return referrer


async def _record_referral(session: AsyncSession, referrer: User, referee: User, code: str) -> None:
    referral = Referral(referrer_id=referrer.id, referee_id=referee.id, code=code,
                        reward_amount_cents=REFERRAL_REWARD_CENTS,
                        referrer_credited=False, referee_credited=False)
    session.add(referral)
    await session.flush()
    await events.referral_recorded(session, referral)
