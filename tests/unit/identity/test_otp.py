"""Sign-in code rules: E.164 numbers, codes, their HMAC, expiry, attempts and resend cooldown."""

from datetime import UTC, datetime, timedelta

import pytest

from kilat.platform.errors import BadRequest, Unprocessable
from kilat.services.identity.domain import Role, contact_phone
from kilat.services.identity.otp import (
    CodeExhausted,
    CodePolicy,
    code_digest,
    code_matches,
    derive_key,
    new_code,
    to_e164,
)
from kilat.services.identity.settings import IdentitySettings
from kilat.services.identity.sign_in import LOOPBACK, client_address

NOW = datetime(2026, 12, 8, 0, 0, tzinfo=UTC)
POLICY = CodePolicy(ttl=timedelta(minutes=5), max_attempts=5, resend_after=timedelta(seconds=60))
KEY = derive_key(b"secret")


@pytest.mark.parametrize(("raw", "e164"), [
    ("081234567890", "+6281234567890"),
    (" 0812-3456-7890 ", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"),
    ("+60123456789", "+60123456789"),
    ("+1 202 555 0143", "+12025550143"),
])
def test_numbers_are_normalised_to_e164(raw, e164):
    assert to_e164(raw, "ID") == e164


def test_numbers_without_plus_are_read_in_the_region():
    assert to_e164("0123456789", "MY") == "+60123456789"


@pytest.mark.parametrize("raw", ["12345", "+62 12", "phone", "", "+999123456789", "0812345"])
def test_invalid_numbers_are_422(raw):
    with pytest.raises(Unprocessable):
        to_e164(raw, "ID")


def test_the_verticals_roles_store_e164_and_the_pets_roles_keep_their_format():
    assert contact_phone("0812-3456-7890", Role.PASSENGER, "ID") == "+6281234567890"
    assert contact_phone("0123456789", Role.OWNER, "ID") == "0123456789"
    assert contact_phone("  ", Role.DRIVER, "ID") is None
    with pytest.raises(Unprocessable):
        contact_phone("12345", Role.COURIER, "ID")


def test_codes_are_six_random_digits():
    codes = {new_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 150


def test_a_digest_matches_its_code_on_its_number_under_its_key_only():
    digest = code_digest(KEY, "+6281234567890", "123456")
    assert len(digest) == 64 and "123456" not in digest
    assert code_matches(KEY, "+6281234567890", "123456", digest)
    assert not code_matches(KEY, "+6281234567890", "123457", digest)
    assert not code_matches(KEY, "+6281234567891", "123456", digest)
    assert not code_matches(derive_key(b"other"), "+6281234567890", "123456", digest)


def test_a_live_code_is_usable_until_it_expires():
    POLICY.check_usable(expires_at=NOW + timedelta(seconds=1), attempts=4, now=NOW)
    with pytest.raises(BadRequest, match="code expired"):
        POLICY.check_usable(expires_at=NOW, attempts=0, now=NOW)


def test_a_code_that_took_its_last_wrong_attempt_is_dead():
    with pytest.raises(CodeExhausted) as raised:
        POLICY.check_usable(expires_at=NOW + timedelta(minutes=1), attempts=5, now=NOW)
    assert raised.value.status_code == 400 and raised.value.error == "too many wrong codes"


def test_the_resend_cooldown_counts_whole_seconds_from_the_last_code():
    assert POLICY.resend_wait_seconds(None, NOW) == 0
    assert POLICY.resend_wait_seconds(NOW, NOW) == 60
    assert POLICY.resend_wait_seconds(NOW - timedelta(seconds=59.5), NOW) == 1
    assert POLICY.resend_wait_seconds(NOW - timedelta(seconds=60), NOW) == 0


def test_the_client_is_the_peer_unless_a_trusted_proxy_forwards_it():
    assert client_address("203.0.113.1", "198.51.100.1", LOOPBACK) == "203.0.113.1"
    assert client_address("127.0.0.1", "198.51.100.1", LOOPBACK) == "198.51.100.1"
    assert client_address("127.0.0.1", "198.51.100.1, 127.0.0.1", LOOPBACK) == "198.51.100.1"
    assert client_address("127.0.0.1", None, LOOPBACK) == "127.0.0.1"
    assert client_address(None, None, LOOPBACK) == "unknown"


def test_settings_refuse_an_unknown_region_and_upper_case_a_known_one():
    assert IdentitySettings(default_phone_region="my").default_phone_region == "MY"
    with pytest.raises(ValueError):
        IdentitySettings(default_phone_region="XX")


def test_the_number_limit_counts_the_codes_of_the_last_window():
    policy = CodePolicy(ttl=timedelta(minutes=5), max_attempts=5, resend_after=timedelta(0),
                        phone_limit=2, phone_window=timedelta(hours=1))
    assert policy.phone_wait_seconds([], NOW) == 0
    assert policy.phone_wait_seconds([NOW - timedelta(minutes=10)], NOW) == 0
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=10)]
    assert policy.phone_wait_seconds(sent, NOW) == 600  # when the oldest leaves the window
    assert POLICY.phone_wait_seconds(sent * 5, NOW) == 0  # no limit configured
