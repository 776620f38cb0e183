"""Pure notification rules: money, quiet hours, backoff, statuses, channel choice."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from kilat.services.notification.domain import (
    ALL_CHANNELS,
    Channel,
    DeliveryStatus,
    NotificationStatus,
    aggregate_status,
    choose_channels,
    format_money,
    in_quiet_hours,
    is_exhausted,
    parse_hhmm,
    parse_timezone,
    quiet_hours_end,
    retry_delay_seconds,
)

KL = ZoneInfo("Asia/Kuala_Lumpur")


@pytest.mark.parametrize("cents, text", [(0, "RM 0.00"), (5, "RM 0.05"), (4423, "RM 44.23"),
                                         (127500, "RM 1275.00"), (-150, "RM -1.50")])
def test_money_is_ringgit_with_two_decimals(cents, text):
    assert format_money(cents) == text


@pytest.mark.parametrize("value", ["24:00", "7:00", "07:60", "0700", "", "07:00:00"])
def test_bad_times_of_day_are_refused(value):
    with pytest.raises(ValueError):
        parse_hhmm(value)


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_timezone("Mars/Olympus")


@pytest.mark.parametrize("local, quiet", [("21:59", False), ("22:00", True), ("23:30", True),
                                          ("00:00", True), ("06:59", True), ("07:00", False),
                                          ("12:00", False)])
def test_overnight_window_spans_midnight(local, quiet):
    assert in_quiet_hours(parse_hhmm(local), time(22), time(7)) is quiet


@pytest.mark.parametrize("local, quiet", [("12:59", False), ("13:00", True), ("13:59", True),
                                          ("14:00", False)])
def test_daytime_window(local, quiet):
    assert in_quiet_hours(parse_hhmm(local), time(13), time(14)) is quiet


def test_equal_start_and_end_means_no_quiet_hours():
    assert in_quiet_hours(time(9), time(9), time(9)) is False


def test_quiet_end_before_midnight_is_the_next_local_morning_in_utc():
    now = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 23:30 in Kuala Lumpur
    assert quiet_hours_end(now, time(22), time(7), KL) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def test_quiet_end_after_midnight_is_the_same_local_morning():
    now = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)  # 02:00 on 2 Dec in Kuala Lumpur
    assert quiet_hours_end(now, time(22), time(7), KL) == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)


def test_outside_quiet_hours_or_without_them_nothing_is_deferred():
    now = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # noon in Kuala Lumpur
    assert quiet_hours_end(now, time(22), time(7), KL) is None
    assert quiet_hours_end(now, None, None, KL) is None


def test_quiet_hours_follow_the_users_time_zone_not_utc():
    now = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 23:30 UTC is 07:30 in Kuala Lumpur
    assert quiet_hours_end(now, time(22), time(7), ZoneInfo("UTC")) is not None
    assert quiet_hours_end(now, time(22), time(7), KL) is None


def test_backoff_doubles_per_attempt_up_to_the_cap():
    assert [retry_delay_seconds(n, 30, 200) for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]


def test_one_attempt_plus_max_retries():
    assert not is_exhausted(3, 3) and is_exhausted(4, 3)
    assert is_exhausted(1, 0)


@pytest.mark.parametrize("statuses, expected", [
    ([], NotificationStatus.SENT),
    (["sent", "sent"], NotificationStatus.SENT),
    (["sent", "failed"], NotificationStatus.PARTIALLY_SENT),
    (["failed"], NotificationStatus.FAILED),
    (["sent", "deferred"], NotificationStatus.PENDING),
    (["failed", "pending"], NotificationStatus.PENDING),
])
def test_notification_status_from_its_deliveries(statuses, expected):
    assert aggregate_status([DeliveryStatus(s) for s in statuses]) is expected


def test_channel_needs_the_switch_on_and_an_address_unless_required():
    switches = {Channel.PUSH: True, Channel.SMS: False, Channel.EMAIL: False}
    addresses = {Channel.PUSH: None, Channel.SMS: "+60123", Channel.EMAIL: "a@b.my"}
    assert choose_channels(ALL_CHANNELS, frozenset(), switches, addresses) == []
    assert choose_channels(ALL_CHANNELS, frozenset({Channel.EMAIL}), switches, addresses) == [
        (Channel.EMAIL, "a@b.my")]
    assert choose_channels(frozenset({Channel.PUSH}), frozenset(),
                           {c: True for c in Channel}, addresses) == []
