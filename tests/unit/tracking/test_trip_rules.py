"""Trips, access, distance, share links and chat content: the rules without I/O."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kilat.services.tracking.domain import (
    Effect,
    EndReason,
    FrameBudget,
    MessageType,
    Party,
    ShareState,
    TripParties,
    TripStatus,
    booking_effect,
    booking_status_advances,
    clean_chat_content,
    latest_per_trip,
    may_revoke_share,
    may_send_location,
    party_of,
    recipient_of,
    route_distance_km,
    share_lifetime,
    share_state,
    share_token_hash,
    thin_route,
)

OWNER, RUNNER, OTHER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
ACTIVE = TripParties(OWNER, RUNNER, TripStatus.ACTIVE, None)
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("event_type, effect", [
    ("booking.accepted", Effect.START),
    ("booking.delivery_confirmed", Effect.END),
    ("booking.completed", Effect.END),
    ("booking.cancelled", Effect.END),
    ("booking.declined", Effect.END),
    ("booking.pet_picked_up", Effect.NOTE),
    ("booking.requested", Effect.NOTE),
])
def test_booking_facts_start_end_or_annotate_the_trip(event_type, effect):
    assert booking_effect(event_type) is effect


def test_owner_runner_and_admin_are_parties_and_a_stranger_is_not():
    assert party_of(ACTIVE, OWNER, "owner") is Party.OWNER
    assert party_of(ACTIVE, RUNNER, "runner") is Party.RUNNER
    assert party_of(ACTIVE, OTHER, "admin") is Party.ADMIN
    assert party_of(ACTIVE, OTHER, "runner") is None
    assert party_of(ACTIVE, OTHER, "owner") is None


def test_a_runner_who_declined_loses_access_but_the_owner_keeps_it():
    declined = TripParties(OWNER, RUNNER, TripStatus.CANCELLED, EndReason.DECLINED)
    assert party_of(declined, RUNNER, "runner") is None
    assert party_of(declined, OWNER, "owner") is Party.OWNER


def test_only_the_assigned_runner_streams_positions_while_active():
    assert may_send_location(ACTIVE, RUNNER, "runner")
    assert not may_send_location(ACTIVE, OWNER, "owner")
    assert not may_send_location(ACTIVE, OTHER, "runner")
    done = TripParties(OWNER, RUNNER, TripStatus.COMPLETED, EndReason.DELIVERED)
    assert not may_send_location(done, RUNNER, "runner")


def test_booking_status_only_moves_forward_or_to_cancelled():
    assert booking_status_advances("accepted", "in_progress")
    assert booking_status_advances("delivered", "completed")
    assert not booking_status_advances("completed", "in_progress")
    assert not booking_status_advances("accepted", "accepted")
    assert booking_status_advances("in_progress", "cancelled")
    assert not booking_status_advances("cancelled", "completed")


def test_distance_is_the_sum_of_segments_to_three_decimals():
    # one degree of latitude on a 6371 km sphere is 111.195 km; there and back is twice that
    points = [(0.0, 10.0), (1.0, 10.0), (0.0, 10.0)]
    assert route_distance_km(points) == 222.39
    assert route_distance_km([(3.1, 101.6)]) == 0.0
    assert route_distance_km([]) == 0.0


def test_a_long_route_is_thinned_keeping_its_ends():
    points = list(range(1001))
    thinned = thin_route(points, 11)
    assert thinned == [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    assert thin_route(points[:5], 11) == points[:5]


def test_share_state_revoked_wins_over_expired():
    later = NOW + timedelta(hours=1)
    assert share_state(later, None, NOW) is ShareState.VALID
    assert share_state(NOW, None, NOW) is ShareState.EXPIRED
    assert share_state(later, NOW, NOW) is ShareState.REVOKED


def test_share_lifetime_defaults_and_limits():
    assert share_lifetime(None, 24, 168) == timedelta(hours=24)
    assert share_lifetime(2, 24, 168) == timedelta(hours=2)
    with pytest.raises(ValueError):
        share_lifetime(169, 24, 168)


def test_share_tokens_are_stored_as_hashes():
    digest = share_token_hash("a" * 32)
    assert len(digest) == 64 and digest != "a" * 32
    assert digest == share_token_hash("a" * 32)


def test_the_owner_admin_or_creator_may_revoke_a_link():
    assert may_revoke_share(RUNNER, Party.OWNER, OWNER)
    assert may_revoke_share(OWNER, Party.ADMIN, OTHER)
    assert may_revoke_share(RUNNER, Party.RUNNER, RUNNER)
    assert not may_revoke_share(OWNER, Party.RUNNER, RUNNER)


@pytest.mark.parametrize("message_type, content, error", [
    (MessageType.TEXT, "   ", "empty"),
    (MessageType.TEXT, "x" * 2001, "at most"),
    (MessageType.IMAGE, "not a url", r"http\(s\) URL"),
    (MessageType.IMAGE, "ftp://pets.example/cat.png", r"http\(s\) URL"),
    (MessageType.QUICK_REPLY, "y" * 201, "at most"),
])
def test_bad_chat_content_is_refused(message_type, content, error):
    with pytest.raises(ValueError, match=error):
        clean_chat_content(message_type, content)


def test_chat_content_is_trimmed_and_image_urls_pass():
    assert clean_chat_content(MessageType.TEXT, "  on my way ") == "on my way"
    url = "https://cdn.example/pets/cat.jpg"
    assert clean_chat_content(MessageType.IMAGE, url) == url


def test_a_message_goes_to_the_other_party():
    assert recipient_of(Party.OWNER, ACTIVE) == RUNNER
    assert recipient_of(Party.RUNNER, ACTIVE) == OWNER
    assert recipient_of(Party.ADMIN, ACTIVE) is None


def test_latest_row_per_trip():
    trip_a, trip_b = uuid.uuid4(), uuid.uuid4()
    rows = [{"trip_id": trip_a, "recorded_at": NOW},
            {"trip_id": trip_a, "recorded_at": NOW + timedelta(seconds=5)},
            {"trip_id": trip_b, "recorded_at": NOW}]
    latest = latest_per_trip(rows)
    assert latest[trip_a]["recorded_at"] == NOW + timedelta(seconds=5)
    assert latest[trip_b]["recorded_at"] == NOW


def test_frame_budget_allows_a_burst_then_the_refill_rate():
    budget = FrameBudget(rate=2, burst=3, now=0.0)
    assert [budget.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.take(0.4) is False
    assert budget.take(0.5) is True
    assert [budget.take(10.0) for _ in range(4)] == [True, True, True, False]
