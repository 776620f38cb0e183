"""The CloudEvents envelope and the handler pattern rule."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from kilat.platform.events import Event, new_event
from kilat.platform.events.envelope import matches


def test_event_survives_a_json_round_trip_unchanged():
    event = new_event("booking.accepted", {"booking_id": str(uuid.uuid4()), "price": 12.5,
                                           "tags": ["dog"]}, source="booking", subject="b-1")
    again = Event.from_json(event.to_json())
    assert again == event
    assert again.time.tzinfo is not None


def test_event_json_carries_the_cloudevents_attributes():
    event = new_event("payment.escrow_released", {"amount": 10}, source="payment")
    body = json.loads(event.to_json())
    assert body["specversion"] == "1.0"
    assert body["datacontenttype"] == "application/json"
    assert {"id", "source", "type", "time", "subject", "data"} <= set(body)
    assert uuid.UUID(body["id"]) == event.id


def test_event_from_json_accepts_text_and_keeps_the_given_id_and_time():
    raw = json.dumps({"id": "6f1c1a52-5d3f-4a55-9a0e-2b0cf2f4f1a3", "source": "booking",
                      "type": "booking.requested", "time": "2026-11-23T10:00:00Z", "data": {}})
    event = Event.from_json(raw)
    assert str(event.id) == "6f1c1a52-5d3f-4a55-9a0e-2b0cf2f4f1a3"
    assert event.time == datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_event_without_type_or_source_is_rejected():
    with pytest.raises(ValidationError):
        Event.from_json(b'{"source": "booking"}')
    with pytest.raises(ValidationError):
        Event.from_json(b'{"type": "booking.accepted"}')


@pytest.mark.parametrize(("pattern", "event_type", "expected"), [
    ("booking.accepted", "booking.accepted", True),
    ("booking.accepted", "booking.accepted_late", False),
    ("booking.*", "booking.accepted", True),
    ("booking.*", "booking.state.changed", True),
    ("booking.*", "bookings.accepted", False),
    ("booking.*", "booking", False),
    ("*", "runner.location_update", True),
    (">", "anything.at.all", True),
])
def test_pattern_matching(pattern, event_type, expected):
    assert matches(pattern, event_type) is expected
