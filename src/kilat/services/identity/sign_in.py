"""Phone sign-in: a code texted to the number (through notification), then checked once."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kilat.platform.errors import BadRequest, Conflict, Forbidden, TooManyRequests, Unprocessable
from kilat.platform.models import utcnow
from kilat.platform.ratelimit import RateLimiter
from kilat.services.identity import events
from kilat.services.identity.domain import Role
from kilat.services.identity.models import OtpCode, User
from kilat.services.identity.otp import (
    CodeExhausted,
    CodePolicy,
    code_digest,
    code_matches,
    new_code,
    to_e164,
)
from kilat.services.identity.repository import OtpCodes, Users
from kilat.services.identity.schemas import OtpVerify
from kilat.services.identity.service import Authority, AuthResult, start_session

# accounts phone sign-in may create; others are made by email sign-up or by an admin
PHONE_ROLES = frozenset({Role.PASSENGER, Role.DRIVER})
Networks = tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
LOOPBACK: Networks = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
PRUNE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class PhoneSignIn:
    """What phone sign-in keeps for the life of a process: rules, the code key, the per-address
    rate limit (the per-number one is counted exactly from the codes table)."""

    region: str
    policy: CodePolicy
    key: bytes
    ip_limiter: RateLimiter | None
    # peers whose X-Forwarded-For names the client: the gateway, proxies in front of it
    trusted_proxies: Networks = LOOPBACK


@dataclass(frozen=True)
class CodeSent:
    expires_in_seconds: int
    resend_after_seconds: int


class TryLater(TooManyRequests):
    """429 with the seconds to wait, sent as Retry-After."""

    def __init__(self, error: str, retry_after: int) -> None:
        super().__init__(error, f"retry in {retry_after} s")
        self.retry_after = retry_after


class WrongCode(BadRequest):
    """A wrong code. Raised after its attempt was counted: the caller must keep (commit) that."""

    def __init__(self, attempts_left: int) -> None:
        detail = (f"{attempts_left} attempt(s) left" if attempts_left
                  else "no attempts left; request a new code")
        super().__init__("wrong code", detail)


async def request_code(session: AsyncSession, phone_sign_in: PhoneSignIn, raw_phone: str,
                       client: str) -> CodeSent:
    """Text a new code to the number, replacing any earlier one; refused (429) while the
    number's cooldown runs or a rate limit is spent."""
    rules = phone_sign_in
    phone = to_e164(raw_phone, rules.region)
    await _spend(rules.ip_limiter, f"ip:{client}", "too many code requests from this address")
    codes = OtpCodes(session)
    now = utcnow()
    latest = await codes.latest(phone)
    wait = rules.policy.resend_wait_seconds(latest.created_at if latest else None, now)
    if wait:
        raise TryLater("a code was sent to this number moments ago", wait)
    sent = await codes.sent_since(phone, now - rules.policy.phone_window)
    if wait := rules.policy.phone_wait_seconds(sent, now):
        raise TryLater("too many codes sent to this number", wait)
    await codes.end_live(phone, now)
    await codes.prune(now - max(PRUNE_AFTER, rules.policy.phone_window))
    code = new_code()
    otp = OtpCode(phone=phone, code_hash=code_digest(rules.key, phone, code), attempts=0,
                  expires_at=now + rules.policy.ttl, created_at=now)
    session.add(otp)
    await session.flush()
    account = await Users(session).by_verified_phone(phone)
    await events.sign_in_code_requested(session, otp, code, account)
    return CodeSent(expires_in_seconds=int(rules.policy.ttl.total_seconds()),
                    resend_after_seconds=int(rules.policy.resend_after.total_seconds()))


async def verify_code(session: AsyncSession, authority: Authority, phone_sign_in: PhoneSignIn,
                      data: OtpVerify) -> AuthResult:
    """Check the number's code; sign its account in, creating it on the first sign-in."""
    rules = phone_sign_in
    phone = to_e164(data.phone, rules.region)
    codes = OtpCodes(session)
    otp = await codes.latest(phone)
    now = utcnow()
    if otp is None or otp.consumed_at is not None:
        raise BadRequest("no code to check", "request a code for this number first")
    rules.policy.check_usable(expires_at=otp.expires_at, attempts=otp.attempts, now=now)
    attempt = await codes.take_attempt(otp.id, rules.policy.max_attempts)
    if attempt is None:
        raise CodeExhausted()
    if not code_matches(rules.key, phone, data.code, otp.code_hash):
        raise WrongCode(rules.policy.max_attempts - attempt)
    if not await codes.consume(otp.id, now):
        raise BadRequest("code already used", "request a new code")
    user = await Users(session).by_verified_phone(phone)
    if user is None:
        user = await _sign_up(session, phone, data)
    _check_sign_in(user, data.role)
    return await start_session(session, authority, user)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Networks) -> str:
    """The client: the peer, or, from a trusted proxy, the nearest untrusted X-Forwarded-For hop."""
    if peer is None:
        return "unknown"
    if not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


async def _spend(limiter: RateLimiter | None, key: str, error: str) -> None:
    if limiter is None:
        return
    allowed, retry_after = await limiter.hit(key)
    if not allowed:
        raise TryLater(error, retry_after)


async def _sign_up(session: AsyncSession, phone: str, data: OtpVerify) -> User:
    if data.role is None:
        raise Unprocessable("role is required", "this number has no account yet: send role "
                            "passenger or driver to create one")
    if data.role not in PHONE_ROLES:
        raise Forbidden(f"phone sign-in cannot create a {data.role} account",
                        "phone sign-in creates passenger or driver accounts")
    user = User(email=None, phone=phone, verified_phone=phone, password_hash=None,
                full_name=data.full_name or "", role=data.role, is_verified=True, is_banned=False)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # lost a race with another first sign-in of the number
        raise Conflict("this number was signed up at the same moment", "sign in again") from exc
    await events.user_registered(session, user, referral_code_used=None)
    return user


def _check_sign_in(user: User, role: Role | None) -> None:
    if user.is_banned:
        raise Forbidden("account is banned")
    if role is not None and role != user.role:
        raise Conflict(f"this number belongs to a {user.role} account",
                       f"sign in without a role, or with role {user.role}; "
                       "another role needs another number")
