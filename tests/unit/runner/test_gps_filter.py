"""GPS filtering before a ping touches the index: accuracy, speed jumps, stationary jitter."""

import math

import pytest

from kilat.platform.geo import is_possible_position
from kilat.services.runner.domain import (
    Fix,
    GpsPolicy,
    Ping,
    PingVerdict,
    judge_ping,
)

POLICY = GpsPolicy(max_accuracy_m=50, max_speed_kmh=200, jitter_m=5, stationary_speed_kmh=3)
START = Fix(3.1500, 101.7000, 1000.0)
METRE_LAT = 1 / 111_195  # degrees of latitude per metre on the 6371 km sphere


def north(metres: float, seconds: float, **kw) -> Ping:
    return Ping(START.latitude + metres * METRE_LAT, START.longitude, START.at + seconds, **kw)


@pytest.mark.parametrize(("lat", "lng", "ok"), [
    (3.15, 101.7, True), (90, 180, True), (-90, -180, True), (0, 101.7, True), (3.15, 0, True),
    (0, 0, False), (90.01, 0, False), (0, 180.5, False), (math.nan, 1, False), (1, math.inf, False),
])
def test_impossible_positions_are_rejected(lat, lng, ok):
    assert is_possible_position(lat, lng) is ok


def test_first_ping_is_accepted():
    assert judge_ping(None, north(0, 0), POLICY) is PingVerdict.ACCEPTED


def test_poor_accuracy_is_dropped_even_for_the_first_ping():
    assert judge_ping(None, north(0, 0, accuracy_m=80), POLICY) is PingVerdict.POOR_ACCURACY
    assert judge_ping(START, north(100, 10, accuracy_m=50), POLICY) is PingVerdict.ACCEPTED


def test_a_jump_faster_than_the_limit_is_dropped():
    # 2 km in 30 s is 240 km/h
    assert judge_ping(START, north(2000, 30, speed_kmh=60), POLICY) is PingVerdict.IMPLAUSIBLE_JUMP
    # 1 km in 30 s is 120 km/h
    assert judge_ping(START, north(1000, 30, speed_kmh=60), POLICY) is PingVerdict.ACCEPTED


def test_pings_closer_than_a_second_are_judged_over_one_second():
    assert judge_ping(START, north(50, 0.01, speed_kmh=40), POLICY) is PingVerdict.ACCEPTED
    assert judge_ping(START, north(80, 0.01, speed_kmh=40), POLICY) is PingVerdict.IMPLAUSIBLE_JUMP


def test_small_moves_while_standing_still_are_only_a_heartbeat():
    assert judge_ping(START, north(3, 4, speed_kmh=0.5), POLICY) is PingVerdict.STATIONARY
    assert judge_ping(START, north(3, 4), POLICY) is PingVerdict.STATIONARY


def test_small_moves_at_speed_and_larger_moves_at_rest_are_accepted():
    assert judge_ping(START, north(3, 4, speed_kmh=10), POLICY) is PingVerdict.ACCEPTED
    assert judge_ping(START, north(8, 4, speed_kmh=0), POLICY) is PingVerdict.ACCEPTED


def test_verdicts_say_whether_the_runner_moves_and_stays_alive():
    assert PingVerdict.ACCEPTED.moves and PingVerdict.ACCEPTED.keeps_alive
    assert not PingVerdict.STATIONARY.moves and PingVerdict.STATIONARY.keeps_alive
    assert not PingVerdict.POOR_ACCURACY.keeps_alive
    assert not PingVerdict.IMPLAUSIBLE_JUMP.keeps_alive
