"""Rail rules without I/O: the refund table, identifiers, OTP, hold requests, the sales window."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from kilat.services.rail import domain

NOW = datetime(2026, 12, 8, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(("hours_left", "percent", "fee", "amount"), [
    (72, 90, 5000, 90_000 - 5000),
    (48, 90, 5000, 85_000),
    (47.99, 50, 5000, 45_000),
    (12, 50, 5000, 45_000),
    (11.99, 0, 0, 0),
    (0.1, 0, 0, 0),
])
def test_the_refund_table_by_time_left_before_departure(hours_left, percent, fee, amount):
    refund = domain.refund_for(100_000, NOW + timedelta(hours=hours_left), NOW, fee=5000)
    assert (refund.percent, refund.fee, refund.amount) == (percent, fee, amount)


def test_the_fee_never_makes_a_refund_negative():
    refund = domain.refund_for(4000, NOW + timedelta(hours=100), NOW, fee=5000)
    assert (refund.percent, refund.fee, refund.amount) == (90, 3600, 0)


def test_no_refund_and_no_cancellation_after_departure():
    assert domain.refund_for(100_000, NOW, NOW, fee=5000) is None
    assert domain.refund_for(100_000, NOW - timedelta(minutes=1), NOW, fee=5000) is None


def test_pnr_is_ten_base36_characters_and_the_reference_starts_with_bk():
    pnrs = {domain.new_pnr(NOW) for _ in range(200)}
    assert all(re.fullmatch(r"[0-9A-Z]{10}", p) for p in pnrs)
    assert len(pnrs) > 190, "4 random characters after the time"
    assert {p[:6] for p in pnrs} == {domain.base36(int(NOW.timestamp()))}
    reference = domain.new_booking_reference(NOW)
    assert reference.startswith("BK") and len(reference) <= 20


def test_base36():
    assert [domain.base36(n) for n in (0, 35, 36, 1295)] == ["0", "Z", "10", "ZZ"]


def test_an_otp_is_six_digits_stored_hashed_per_booking():
    booking, other = uuid.uuid4(), uuid.uuid4()
    code = domain.new_otp()
    assert re.fullmatch(r"\d{6}", code)
    stored = domain.otp_hash(booking, code)
    assert code not in stored
    assert domain.otp_matches(booking, code, stored)
    assert not domain.otp_matches(other, code, stored)
    assert not domain.otp_matches(booking, f"{(int(code) + 1) % 10**6:06d}", stored)
    assert not domain.otp_matches(booking, code, None)


@pytest.mark.parametrize(("count", "duplicate", "why"), [
    (0, False, "hold 1 to 4 seats"), (5, False, "hold 1 to 4 seats"),
    (2, True, "a seat is listed twice"), (4, False, None), (1, False, None),
])
def test_a_hold_asks_for_one_to_four_distinct_seats(count, duplicate, why):
    seats = [uuid.uuid4() for _ in range(count)]
    if duplicate:
        seats[1] = seats[0]
    assert domain.check_seat_request(seats, 4) == why


def test_sales_open_ten_days_ahead_and_close_at_departure():
    today = date(2026, 12, 8)
    later = NOW + timedelta(days=30)
    assert domain.on_sale(today + timedelta(days=10), later, today, NOW, 10) is None
    assert domain.on_sale(today + timedelta(days=11), later, today, NOW, 10) == \
        "sales open 10 days before departure"
    assert domain.on_sale(today, NOW, today, NOW, 10) == "the train has departed"


def test_charge_ids_are_deterministic_per_booking_and_attempt():
    booking = uuid.uuid4()
    assert domain.charge_id(booking, 1) == domain.charge_id(booking, 1)
    assert domain.charge_id(booking, 1) != domain.charge_id(booking, 2)
    assert domain.refund_id(booking) != domain.charge_id(booking, 1)


def test_an_extension_adds_to_the_one_deadline():
    assert domain.extended_deadline(NOW, 300) == NOW + timedelta(seconds=300)
