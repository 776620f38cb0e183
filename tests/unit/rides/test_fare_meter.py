"""The fare meter: jitter is carried, implausible speeds and out-of-order fixes are dropped, and
only completed kilometres are billed."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from kilat.services.rides.domain import FixVerdict, Meter, MeterPolicy, completed_km, fare_for

START = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
ORIGIN = (-6.2, 106.8166)
M_PER_DEGREE_LAT = math.pi * 6371.0 / 180 * 1000
POLICY = MeterPolicy(jitter_m=10.0, max_speed_kmh=160.0)


def north(metres: float) -> tuple[float, float]:
    return ORIGIN[0] + metres / M_PER_DEGREE_LAT, ORIGIN[1]


def drive(fixes: list[tuple[float, float]]) -> tuple[Meter, list[FixVerdict]]:
    """Fixes as (metres north of the start, seconds after it)."""
    meter = Meter.start(*ORIGIN, START)
    verdicts = []
    for metres, seconds in fixes:
        meter, verdict, _ = meter.record(*north(metres), START + timedelta(seconds=seconds), POLICY)
        verdicts.append(verdict)
    return meter, verdicts


def test_a_straight_track_is_the_sum_of_its_segments():
    meter, verdicts = drive([(208 * i, 20 * i) for i in range(1, 26)])
    assert verdicts == [FixVerdict.BILLED] * 25
    assert meter.distance_m == pytest.approx(5200, abs=0.5)


def test_a_5_2_km_track_bills_five_completed_kilometres():
    meter, _ = drive([(208 * i, 20 * i) for i in range(1, 26)])
    assert fare_for(meter.distance_m, 3000) == 15_000


def test_moves_under_10_m_are_jitter_but_are_carried_until_they_add_up():
    # 100 fixes 6 m apart: every other one is judged jitter, yet no metre is lost
    meter, verdicts = drive([(6 * i, 2 * i) for i in range(1, 101)])
    assert verdicts[0] is FixVerdict.JITTER and verdicts[1] is FixVerdict.BILLED
    assert verdicts.count(FixVerdict.JITTER) == 50
    assert meter.distance_m == pytest.approx(600, abs=0.5)


def test_a_phone_standing_still_adds_nothing():
    wobble = [(3, 5), (-4, 10), (2, 15), (-3, 20), (4, 25)]
    meter, verdicts = drive(wobble)
    assert set(verdicts) == {FixVerdict.JITTER}
    assert meter.distance_m == 0
    assert (meter.anchor_lat, meter.anchor_lng) == ORIGIN


def test_an_implausible_jump_is_dropped_and_the_track_goes_on_from_the_last_good_fix():
    # 2 km in 10 s is 720 km/h; the next fix is 200 m after the last good one, 20 s later
    meter, verdicts = drive([(100, 10), (2100, 20), (300, 30)])
    assert verdicts == [FixVerdict.BILLED, FixVerdict.IMPLAUSIBLE, FixVerdict.BILLED]
    assert meter.distance_m == pytest.approx(300, abs=0.5)


def test_speed_is_judged_by_the_fix_times_not_by_arrival():
    # a batch sent late: 500 m in 15 s is 120 km/h, plausible; in 5 s it would be 360 km/h
    assert drive([(500, 15)])[1] == [FixVerdict.BILLED]
    assert drive([(500, 5)])[1] == [FixVerdict.IMPLAUSIBLE]


def test_a_fix_older_than_the_last_one_is_out_of_order_and_changes_nothing():
    meter, verdicts = drive([(200, 20), (100, 10)])
    assert verdicts == [FixVerdict.BILLED, FixVerdict.OUT_OF_ORDER]
    assert meter.distance_m == pytest.approx(200, abs=0.5)


@pytest.mark.parametrize(("metres", "km"), [(0, 0), (999.9, 0), (1000, 1), (5200, 5), (1999, 1)])
def test_only_completed_kilometres_count(metres, km):
    assert completed_km(metres) == km


def test_the_kilometre_remainder_is_carried_across_the_whole_ride():
    # 1.5 km then 1.5 km is 3 km billed, not 1 + 1
    meter, _ = drive([(1500, 60), (3000, 120)])
    assert fare_for(meter.distance_m, 3000) == 9000
