"""Retry backoff, last-attempt rule and how handler patterns map onto NATS subjects."""

import pytest

from kilat.platform.events.bus import Delivery, retry_delay
from kilat.platform.events.envelope import matches, new_event
from kilat.platform.events.nats import durable_name, event_subject, filter_subject, minimal_patterns


def test_retry_delay_doubles_from_the_base_per_failed_attempt():
    assert [retry_delay(a, 0.5) for a in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_retry_delay_is_capped():
    assert retry_delay(20, 0.5, cap_seconds=60.0) == 60.0
    assert retry_delay(10_000, 1.0) == 300.0


def test_retry_delay_of_attempt_zero_or_less_is_the_base():
    assert retry_delay(0, 0.25) == 0.25


def test_delivery_knows_its_last_attempt():
    event = new_event("note.created", {}, source="notes")
    assert not Delivery(event, 4, 5).is_last_attempt
    assert Delivery(event, 5, 5).is_last_attempt
    assert Delivery(event, 6, 5).is_last_attempt


def test_event_types_map_to_subjects_under_the_prefix():
    assert event_subject("kilat", "booking.accepted") == "kilat.events.booking.accepted"


@pytest.mark.parametrize("bad", ["", "booking..accepted", "booking.*", "booking.>", "book ing", "x."])
def test_event_types_that_are_not_valid_subjects_are_refused(bad):
    with pytest.raises(ValueError):
        event_subject("kilat", bad)


@pytest.mark.parametrize(("pattern", "subject"), [
    ("*", "t1.events.>"),
    (">", "t1.events.>"),
    ("booking.*", "t1.events.booking.>"),
    ("payment.escrow_released", "t1.events.payment.escrow_released"),
])
def test_handler_patterns_map_to_filter_subjects(pattern, subject):
    assert filter_subject("t1", pattern) == subject


def test_filter_subject_covers_what_the_pattern_matches():
    # "booking.*" matches deeper types too, so its filter must be "booking.>", not "booking.*"
    assert matches("booking.*", "booking.state.changed")
    assert filter_subject("k", "booking.*").endswith(".>")


def test_patterns_covered_by_another_are_dropped():
    assert minimal_patterns(["booking.accepted", "booking.*", "payment.held"]) == [
        "booking.*", "payment.held"]
    assert minimal_patterns(["booking.*", "*"]) == ["*"]
    assert minimal_patterns(["a.b", "a.b", "c.d"]) == ["a.b", "c.d"]


def test_durable_names_are_valid_consumer_names():
    assert durable_name("booking") == "booking"
    assert durable_name("my.svc name") == "my_svc_name"
    assert durable_name("notification", "booking.*") == "notification--booking-all"
    assert durable_name("review", "booking.completed") == "review--booking-completed"


def test_an_outage_is_told_apart_from_a_bad_event():
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from kilat.platform.errors import ServiceUnavailable
    from kilat.platform.events.bus import is_unavailable, unavailable_retry_delay

    for outage in (ServiceUnavailable("database unavailable"), PoolTimeout(),
                   ConnectionRefusedError(), TimeoutError()):
        assert is_unavailable(outage)
    for bad in (ValueError("bad payload"), KeyError("booking_id"), RuntimeError("bug")):
        assert not is_unavailable(bad)
    assert unavailable_retry_delay(30, 0.5) == 10.0
