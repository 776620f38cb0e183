"""Sign-in codes without I/O: phone numbers in E.164, code generation, hashing and checks."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

from kilat.platform.errors import BadRequest, Unprocessable

CODE_DIGITS = 6


def to_e164(raw: str, region: str) -> str:
    """A valid number in E.164 (``+6281234567890``); numbers without + are read in ``region``."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise Unprocessable("invalid phone number", str(exc)) from exc
    if not phonenumbers.is_valid_number(number):
        raise Unprocessable("invalid phone number",
                            f"not a valid number (numbers without + are read as {region})")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(key: bytes, phone: str, code: str) -> str:
    """HMAC-SHA256 of the code, bound to its number: a stolen table gives no code away."""
    message = f"{phone}:{code}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def code_matches(key: bytes, phone: str, code: str, digest: str) -> bool:
    return hmac.compare_digest(code_digest(key, phone, code), digest)


def derive_key(secret: bytes) -> bytes:
    return hashlib.sha256(b"kilat identity sign-in codes\0" + secret).digest()


@dataclass(frozen=True)
class CodePolicy:
    ttl: timedelta
    max_attempts: int
    resend_after: timedelta
    # codes one number may get per window (0: no limit)
    phone_limit: int = 0
    phone_window: timedelta = timedelta(hours=1)

    def resend_wait_seconds(self, last_sent: datetime | None, now: datetime) -> int:
        """Whole seconds before another code may go to the number (0: now)."""
        if last_sent is None:
            return 0
        return max(0, math.ceil((last_sent + self.resend_after - now).total_seconds()))

    def phone_wait_seconds(self, sent: list[datetime], now: datetime) -> int:
        """Whole seconds until the number may get another code under its window limit (0: now);
        ``sent``: when its codes of the last window went, oldest first."""
        if self.phone_limit <= 0 or len(sent) < self.phone_limit:
            return 0
        frees_at = sent[len(sent) - self.phone_limit] + self.phone_window
        return max(1, math.ceil((frees_at - now).total_seconds()))

    def check_usable(self, *, expires_at: datetime, attempts: int, now: datetime) -> None:
        """Refuse an expired code, or one that took its last wrong attempt."""
        if expires_at <= now:
            raise BadRequest("code expired", "request a new code")
        if attempts >= self.max_attempts:
            raise CodeExhausted()


class CodeExhausted(BadRequest):
    """400, not 429: waiting does not help, only a new code does."""

    def __init__(self) -> None:
        super().__init__("too many wrong codes", "this code no longer works; request a new one")
