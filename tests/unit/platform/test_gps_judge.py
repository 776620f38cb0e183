"""The one GPS judge every fix meets, whether it came as an HTTP ping or over the tracking socket."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from kilat.platform.geo import Fix, FixVerdict, GpsPolicy, is_possible_position, judge_fix

POLICY = GpsPolicy()
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
STARTED = NOW - timedelta(minutes=30)
METRE_LNG = 1 / 111_195  # degrees of longitude per metre at the equator, on the 6371 km sphere


def fix(lng_m: float = 0.0, seconds: float = 0.0, **extra) -> Fix:
    values = {"speed_kmh": 30.0, "accuracy_m": 5.0} | extra
    return Fix(0.001, 101.6869 + lng_m * METRE_LNG,
               NOW - timedelta(minutes=1) + timedelta(seconds=seconds), **values)


def judge(previous, current, policy=POLICY) -> FixVerdict:
    return judge_fix(previous, current, policy, now=NOW, not_before=STARTED)


def test_one_set_of_thresholds():
    assert (POLICY.max_accuracy_m, POLICY.max_speed_kmh, POLICY.jitter_m,
            POLICY.stationary_speed_kmh) == (100.0, 200.0, 5.0, 3.0)


@pytest.mark.parametrize(("lat", "lng", "ok"), [
    (3.15, 101.7, True), (90, 180, True), (-90, -180, True), (0, 101.7, True), (3.15, 0, True),
    (0, 0, False), (90.01, 0, False), (0, 180.5, False), (math.nan, 1, False), (1, math.inf, False),
])
def test_impossible_positions_are_rejected(lat, lng, ok):
    assert is_possible_position(lat, lng) is ok
    assert (judge(None, Fix(lat, lng, NOW)) is FixVerdict.ACCEPTED) is ok


@pytest.mark.parametrize("extra", [{"speed_kmh": -1}, {"heading_degrees": 361}, {"accuracy_m": -3}])
def test_impossible_readings_are_rejected(extra):
    assert judge(None, fix(**extra)) is FixVerdict.IMPOSSIBLE


def test_first_plausible_fix_is_accepted():
    assert judge(None, fix()) is FixVerdict.ACCEPTED


def test_poor_accuracy_over_100_m_is_dropped_even_for_the_first_fix():
    assert judge(None, fix(accuracy_m=100.1)) is FixVerdict.POOR_ACCURACY
    assert judge(None, fix(accuracy_m=100.0)) is FixVerdict.ACCEPTED


def test_a_jump_faster_than_200_kmh_is_dropped():
    # 600 m in 10 s is 216 km/h; 500 m in 10 s is 180 km/h
    assert judge(fix(), fix(lng_m=600, seconds=10)) is FixVerdict.IMPLAUSIBLE_JUMP
    assert judge(fix(), fix(lng_m=500, seconds=10)) is FixVerdict.ACCEPTED


def test_fixes_closer_than_a_second_are_judged_over_one_second():
    assert judge(fix(), fix(lng_m=50, seconds=0.01)) is FixVerdict.ACCEPTED
    assert judge(fix(), fix(lng_m=60, seconds=0.01)) is FixVerdict.IMPLAUSIBLE_JUMP


def test_a_move_under_5_m_at_rest_is_stationary_a_heartbeat_not_a_move():
    assert judge(fix(), fix(lng_m=4, seconds=5, speed_kmh=0.5)) is FixVerdict.STATIONARY
    assert judge(fix(), fix(lng_m=4, seconds=5, speed_kmh=None)) is FixVerdict.STATIONARY
    assert not FixVerdict.STATIONARY.moves and FixVerdict.STATIONARY.keeps_alive


def test_a_small_move_at_speed_or_a_real_step_at_rest_is_a_move():
    assert judge(fix(), fix(lng_m=2, seconds=1, speed_kmh=20)) is FixVerdict.ACCEPTED
    assert judge(fix(), fix(lng_m=6, seconds=5, speed_kmh=0.0)) is FixVerdict.ACCEPTED
    assert FixVerdict.ACCEPTED.moves and FixVerdict.ACCEPTED.keeps_alive


def test_a_fix_not_after_the_last_one_is_out_of_order():
    assert judge(fix(seconds=10), fix(lng_m=50, seconds=5)) is FixVerdict.OUT_OF_ORDER
    assert judge(fix(seconds=10), fix(lng_m=50, seconds=10)) is FixVerdict.OUT_OF_ORDER


def test_a_fix_from_the_future_or_before_the_window_is_out_of_window():
    assert judge(None, Fix(0.001, 101.6869, NOW + timedelta(minutes=6))) \
        is FixVerdict.OUT_OF_WINDOW
    assert judge(None, Fix(0.001, 101.6869, STARTED - timedelta(minutes=6))) is FixVerdict.OUT_OF_WINDOW
    assert judge(None, Fix(0.001, 101.6869, STARTED - timedelta(minutes=4))) is FixVerdict.ACCEPTED
    old = Fix(0.001, 101.6869, NOW - timedelta(hours=7))
    assert judge_fix(None, old, POLICY, now=NOW) is FixVerdict.OUT_OF_WINDOW


def test_rejections_neither_move_nor_keep_a_runner_alive():
    for verdict in set(FixVerdict) - {FixVerdict.ACCEPTED, FixVerdict.STATIONARY}:
        assert not verdict.moves and not verdict.keeps_alive


def test_trusting_motion_keeps_only_order_window_and_accuracy():
    trusting = POLICY.trusting_motion()
    assert judge(fix(), fix(lng_m=5000, seconds=10), trusting) is FixVerdict.ACCEPTED
    assert judge(fix(), fix(lng_m=1, seconds=5, speed_kmh=0), trusting) is FixVerdict.ACCEPTED
    assert judge(fix(seconds=10), fix(seconds=10), trusting) is FixVerdict.OUT_OF_ORDER
    assert judge(None, fix(accuracy_m=150), trusting) is FixVerdict.POOR_ACCURACY


def test_policy_values_are_configurable():
    assert judge(None, fix(accuracy_m=20), GpsPolicy(max_accuracy_m=10)) is FixVerdict.POOR_ACCURACY
