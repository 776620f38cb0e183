"""The driver's adjustment and the admin fee: integer IDR, half-up rounding, and
fee + payout == adjusted for every fare and factor."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kilat.services.rides.domain import charge_id, settle


def test_the_assignments_worked_example():
    split = settle(10_000, Decimal("0.8"), 5)
    assert (split.adjusted_fare, split.admin_fee, split.driver_payout) == (8_000, 400, 7_600)


def test_the_journeys_fare():
    split = settle(15_000, Decimal("0.8"), 5)
    assert (split.adjusted_fare, split.admin_fee, split.driver_payout) == (12_000, 600, 11_400)


def test_the_fee_rounds_half_up_so_small_fares_stay_payable():
    assert settle(10, Decimal(1), 5).admin_fee == 1  # 0.5 rounds up
    assert settle(9, Decimal(1), 5).admin_fee == 0  # 0.45 rounds down
    assert settle(3000, Decimal("0.3333"), 5).adjusted_fare == 1000  # 999.9 rounds up


@pytest.mark.parametrize("factor", [Decimal(0), Decimal("-0.1"), Decimal("1.5"), Decimal("1.0001")])
def test_a_factor_outside_zero_to_one_is_refused(factor):
    with pytest.raises(ValueError):
        settle(10_000, factor, 5)


@settings(max_examples=400, deadline=None)
@given(fare=st.integers(min_value=0, max_value=10**12),
       factor=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1), places=4),
       percent=st.integers(min_value=0, max_value=100))
def test_fee_and_payout_always_add_up_to_the_adjusted_fare(fare, factor, percent):
    split = settle(fare, factor, percent)
    assert split.admin_fee + split.driver_payout == split.adjusted_fare
    assert 0 <= split.adjusted_fare <= fare
    assert 0 <= split.admin_fee <= split.adjusted_fare
    assert abs(split.admin_fee - split.adjusted_fare * percent / 100) <= 0.5


def test_a_charge_is_named_by_its_ride_and_attempt():
    ride = uuid.uuid4()
    assert charge_id(ride, 1) == charge_id(ride, 1)
    assert charge_id(ride, 1) != charge_id(ride, 2)
