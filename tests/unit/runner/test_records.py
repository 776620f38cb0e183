"""Ratings, completion rate and how booking facts move an assignment."""

import pytest

from kilat.services.runner.domain import (
    AssignmentStatus as A,
)
from kilat.services.runner.domain import (
    completion_rate,
    mean_rating,
    next_assignment,
)


@pytest.mark.parametrize(("stars", "rating"), [
    ([], 0.0), ([5], 5.0), ([5, 4], 4.5), ([5, 4, 4], 4.33), ([5, 5, 4], 4.67), ([1, 2], 1.5),
    ([4, 4, 5, 5, 5, 5, 5, 5], 4.75), ([3, 4, 4], 3.67),
])
def test_rating_is_the_mean_of_stars_to_two_decimals(stars, rating):
    assert mean_rating(stars) == rating


@pytest.mark.parametrize(("accepted", "abandoned", "rate"), [
    (0, 0, 1.0), (1, 0, 1.0), (4, 1, 0.75), (3, 1, 0.67), (3, 3, 0.0), (2, 5, 0.0),
])
def test_completion_rate_counts_jobs_the_runner_abandoned(accepted, abandoned, rate):
    assert completion_rate(accepted, abandoned) == rate


@pytest.mark.parametrize(("current", "fact", "expected"), [
    (None, A.ACTIVE, A.ACTIVE),
    (A.ACTIVE, A.ACTIVE, None),
    (A.ACTIVE, A.COMPLETED, A.COMPLETED),
    (A.ACTIVE, A.CANCELLED, A.CANCELLED),
    (A.ACTIVE, A.DECLINED, A.DECLINED),
    (A.COMPLETED, A.ACTIVE, None),
    (A.COMPLETED, A.CANCELLED, None),
    (A.CANCELLED, A.COMPLETED, None),
    (A.DECLINED, A.ACTIVE, A.ACTIVE),
    (A.DECLINED, A.COMPLETED, A.COMPLETED),
    (None, A.COMPLETED, A.COMPLETED),
])
def test_booking_facts_move_an_assignment(current, fact, expected):
    assert next_assignment(current, 10.0, fact, 20.0) is expected


def test_an_older_fact_does_not_undo_a_newer_one():
    assert next_assignment(A.DECLINED, 20.0, A.ACTIVE, 10.0) is None
    assert next_assignment(A.ACTIVE, 20.0, A.DECLINED, 10.0) is None
    assert next_assignment(A.ACTIVE, 20.0, A.COMPLETED, 10.0) is A.COMPLETED
