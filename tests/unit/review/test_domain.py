"""Pure review rules: parties, tags, the rating average, final bookings, the review window."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from kilat.platform.errors import BadRequest
from kilat.services.review.domain import (
    ReviewerRole,
    accepts_update,
    average,
    normalize_tags,
    reviewee,
    reviewer_role,
    window_closed,
)

OWNER, RUNNER = uuid.uuid4(), uuid.uuid4()


def test_parties_review_each_other_and_strangers_are_nobody():
    assert reviewer_role(OWNER, OWNER, RUNNER) is ReviewerRole.OWNER
    assert reviewer_role(RUNNER, OWNER, RUNNER) is ReviewerRole.RUNNER
    assert reviewer_role(uuid.uuid4(), OWNER, RUNNER) is None
    assert reviewer_role(RUNNER, OWNER, None) is None
    assert reviewee(ReviewerRole.OWNER, OWNER, RUNNER) == RUNNER
    assert reviewee(ReviewerRole.RUNNER, OWNER, RUNNER) == OWNER


@pytest.mark.parametrize("total, count, expected", [
    (0, 0, 0.0), (5, 1, 5.0), (13, 3, 4.33), (14, 3, 4.67), (9, 2, 4.5), (1, 8, 0.13),
])
def test_average_is_the_mean_rounded_half_up_to_two_decimals(total, count, expected):
    assert average(total, count) == expected


def test_tags_are_normalised_and_deduplicated():
    assert normalize_tags(["  Gentle With Pets ", "punctual", "PUNCTUAL", "on-time"]) == [
        "gentle_with_pets", "punctual", "on-time"]


@pytest.mark.parametrize("tags", [[""], ["no!"], ["x" * 33], [f"t{i}" for i in range(11)]])
def test_bad_tags_are_refused(tags):
    with pytest.raises(BadRequest):
        normalize_tags(tags)


def test_completed_and_cancelled_bookings_are_final():
    assert accepts_update("accepted") and accepts_update("delivered")
    assert not accepts_update("completed") and not accepts_update("cancelled")


def test_review_window():
    done = datetime(2026, 12, 1, tzinfo=UTC)
    assert not window_closed(done, done + timedelta(days=30), 30)
    assert window_closed(done, done + timedelta(days=30, seconds=1), 30)
    assert not window_closed(done, done + timedelta(days=3650), 0)
    assert not window_closed(None, done, 30)


def test_a_late_event_never_moves_a_booking_behind_what_was_read():
    assert accepts_update("in_progress", "delivered") and accepts_update("delivered", "delivered")
    assert not accepts_update("delivered", "in_progress")
    assert not accepts_update("in_progress", "accepted")
    assert accepts_update("accepted", "requested") and accepts_update("requested", "accepted")
