"""The GPS filter that decides which fixes become waypoints."""

from datetime import UTC, datetime, timedelta

import pytest

from kilat.services.tracking.domain import Fix, FixVerdict, GpsPolicy, judge_fix

POLICY = GpsPolicy()
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
STARTED = NOW - timedelta(minutes=30)
METRE_LNG = 1 / 111_320  # degrees of longitude per metre near the equator


def fix(lng_m: float = 0.0, seconds: float = 0.0, **extra) -> Fix:
    values = {"speed_kmh": 30.0, "accuracy_m": 5.0} | extra
    return Fix(3.139, 101.6869 + lng_m * METRE_LNG, NOW - timedelta(minutes=1) + timedelta(seconds=seconds),
               **values)


def judge(previous, current) -> FixVerdict:
    return judge_fix(previous, current, now=NOW, trip_started_at=STARTED, policy=POLICY)


def test_first_plausible_fix_is_accepted():
    assert judge(None, fix()) is FixVerdict.ACCEPTED


@pytest.mark.parametrize("lat, lng", [(91, 10), (-90.5, 10), (10, 181), (10, -180.1), (0, 0),
                                      (float("nan"), 1), (1, float("inf"))])
def test_impossible_coordinates_are_rejected(lat, lng):
    assert judge(None, Fix(lat, lng, NOW)) is FixVerdict.IMPOSSIBLE


@pytest.mark.parametrize("extra", [{"speed_kmh": -1}, {"heading_degrees": 361}, {"accuracy_m": -3}])
def test_impossible_readings_are_rejected(extra):
    assert judge(None, fix(**extra)) is FixVerdict.IMPOSSIBLE


def test_poor_accuracy_over_100_m_is_dropped_but_100_m_is_kept():
    assert judge(None, fix(accuracy_m=100.1)) is FixVerdict.POOR_ACCURACY
    assert judge(None, fix(accuracy_m=100.0)) is FixVerdict.ACCEPTED


def test_jump_faster_than_250_kmh_is_dropped():
    # 800 m in 10 s is 288 km/h; 600 m in 10 s is 216 km/h
    assert judge(fix(), fix(lng_m=800, seconds=10)) is FixVerdict.IMPLAUSIBLE_JUMP
    assert judge(fix(), fix(lng_m=600, seconds=10)) is FixVerdict.ACCEPTED


def test_jitter_under_3_m_while_stationary_is_dropped():
    assert judge(fix(), fix(lng_m=2, seconds=5, speed_kmh=0.5)) is FixVerdict.JITTER
    assert judge(fix(), fix(lng_m=2, seconds=5, speed_kmh=None)) is FixVerdict.JITTER


def test_small_move_while_driving_or_a_real_step_is_kept():
    assert judge(fix(), fix(lng_m=2, seconds=1, speed_kmh=20)) is FixVerdict.ACCEPTED
    assert judge(fix(), fix(lng_m=4, seconds=5, speed_kmh=0.0)) is FixVerdict.ACCEPTED


def test_fix_older_than_or_equal_to_the_last_one_is_out_of_order():
    assert judge(fix(seconds=10), fix(lng_m=50, seconds=5)) is FixVerdict.OUT_OF_ORDER
    assert judge(fix(seconds=10), fix(lng_m=50, seconds=10)) is FixVerdict.OUT_OF_ORDER


def test_fix_from_the_future_or_before_the_trip_is_out_of_window():
    future = Fix(3.139, 101.6869, NOW + timedelta(minutes=6))
    before_trip = Fix(3.139, 101.6869, STARTED - timedelta(minutes=6))
    assert judge(None, future) is FixVerdict.OUT_OF_WINDOW
    assert judge(None, before_trip) is FixVerdict.OUT_OF_WINDOW
    assert judge(None, Fix(3.139, 101.6869, STARTED - timedelta(minutes=4))) is FixVerdict.ACCEPTED


def test_policy_values_are_configurable():
    strict = GpsPolicy(max_accuracy_m=10)
    verdict = judge_fix(None, fix(accuracy_m=20), now=NOW, trip_started_at=STARTED, policy=strict)
    assert verdict is FixVerdict.POOR_ACCURACY
