"""Identity rules without I/O."""

from datetime import UTC, datetime, timedelta

import pytest

from kilat.platform.errors import BadRequest, Forbidden
from kilat.services.identity.domain import (
    RefreshState,
    Role,
    VehicleType,
    application_id,
    check_consent,
    check_password,
    check_reset_token,
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

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize(("accepted", "refused"), [
    ("12345678", "1234567"), ("x" * 72, "x" * 73), ("é" * 36, "é" * 37),
])
def test_passwords_of_8_characters_up_to_72_bytes_are_accepted_one_step_past_is_not(accepted, refused):
    assert check_password(accepted) is None
    with pytest.raises(BadRequest):
        check_password(refused)


@pytest.mark.parametrize(("password", "error"), [
    ("", "password must be at least 8 characters"),
    ("1234567", "password must be at least 8 characters"),
    ("x" * 73, "password must be at most 72 bytes"),
    ("é" * 37, "password must be at most 72 bytes"),
])
def test_short_or_overlong_passwords_are_refused(password, error):
    with pytest.raises(BadRequest) as refused:
        check_password(password)
    assert refused.value.error == error


def test_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Ana.Tan@Example.COM ") == "ana.tan@example.com"


@pytest.mark.parametrize("email", ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com"])
def test_malformed_emails_are_refused(email):
    with pytest.raises(BadRequest):
        normalize_email(email)


@pytest.mark.parametrize(("raw", "phone"), [
    (None, None), ("", None), ("  ", None), ("0123456", "0123456"), (" +60123456789 ", "+60123456789"),
])
def test_phone_is_optional_and_trimmed(raw, phone):
    assert normalize_phone(raw) == phone


@pytest.mark.parametrize("phone", ["012345", "+6012345678901234", "012-3456789", "++60123456789",
                                   "0123 456789", "١٢٣٤٥٦٧٨"])
def test_phones_outside_the_pattern_are_refused(phone):
    with pytest.raises(BadRequest):
        normalize_phone(phone)


def test_only_owner_runner_and_shop_may_self_register():
    for role in (Role.OWNER, Role.RUNNER, Role.SHOP):
        ensure_self_registrable(role)
    with pytest.raises(Forbidden):
        ensure_self_registrable(Role.ADMIN)


@pytest.mark.parametrize(("used_at", "revoked_at", "expires_at", "state"), [
    (None, None, LATER, RefreshState.ACTIVE),
    (NOW, None, LATER, RefreshState.SPENT),
    (None, NOW, LATER, RefreshState.REVOKED),
    (NOW, NOW, LATER, RefreshState.REVOKED),
    (None, None, NOW, RefreshState.EXPIRED),
])
def test_refresh_token_state(used_at, revoked_at, expires_at, state):
    assert refresh_state(used_at=used_at, revoked_at=revoked_at, expires_at=expires_at, now=NOW) is state


def test_reset_tokens_are_64_hex_and_stored_as_sha256():
    token = new_reset_token()
    assert len(token) == 64 and set(token) <= set("0123456789abcdef")
    assert token_digest(token) != token and len(token_digest(token)) == 64
    assert new_reset_token() != token


def test_reset_token_must_be_unused_and_unexpired():
    check_reset_token(used_at=None, expires_at=LATER, now=NOW)
    with pytest.raises(BadRequest, match="token already used"):
        check_reset_token(used_at=NOW, expires_at=LATER, now=NOW)
    with pytest.raises(BadRequest, match="token expired"):
        check_reset_token(used_at=None, expires_at=NOW, now=NOW)


@pytest.mark.parametrize(("year", "sequence", "expected"), [
    (2026, 1, "KR-2026-00001"), (2026, 42, "KR-2026-00042"), (2027, 99999, "KR-2027-99999"),
])
def test_application_id_format(year, sequence, expected):
    assert application_id(year, sequence) == expected


def test_ic_numbers_are_compared_without_separators():
    assert normalize_ic_number(" 900101-14-5678 ") == normalize_ic_number("900101145678")
    assert normalize_ic_number("a1234567") == "A1234567"
    with pytest.raises(BadRequest):
        normalize_ic_number("12-34")


def test_cars_and_motorbikes_need_a_plate_bicycles_do_not():
    check_runner_vehicle(VehicleType.BICYCLE, None)
    check_runner_vehicle(VehicleType.CAR, "WXY 1234")
    for vehicle in (VehicleType.CAR, VehicleType.VAN, VehicleType("motorbike")):
        with pytest.raises(BadRequest):
            check_runner_vehicle(vehicle, None)


def test_consent_must_be_given():
    check_consent(True)
    with pytest.raises(BadRequest, match="consent must be acknowledged"):
        check_consent(False)


def test_referral_codes_are_ref_and_8_lowercase_hex():
    codes = {new_referral_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert code.startswith("REF-") and len(code) == 12
        assert normalize_referral_code(code) == code


def test_referral_code_input_is_normalised():
    assert normalize_referral_code(" ref-1A2B3C4D ") == "REF-1a2b3c4d"


@pytest.mark.parametrize("code", ["", "REF-", "REF-1234567", "REF-123456789", "REF-1234567g", "XYZ-12345678"])
def test_malformed_referral_codes_are_refused(code):
    with pytest.raises(BadRequest, match="invalid referral code"):
        normalize_referral_code(code)


def test_profile_changes_ignore_empty_fields():
    assert profile_changes(full_name=" ", phone="", avatar_url=None) == {}
    assert profile_changes(full_name=" Ana ", phone="0123456789",
                           avatar_url="https://x.example/a.png") == {
        "full_name": "Ana", "phone": "0123456789", "avatar_url": "https://x.example/a.png"}


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x.example/a", "https://", "avatar.png",
                                 "http://A)W)[%7X/"])  # a broken IPv6 host, once a 500
def test_avatar_url_must_be_http(url):
    with pytest.raises(BadRequest):
        profile_changes(full_name=None, phone=None, avatar_url=url)
