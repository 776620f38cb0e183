"""Events the review service publishes (kilat.contracts.review; the runner service keeps ratings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kilat.contracts.review import ReviewCreated, ReviewHidden
from kilat.services.review.models import Review


def _fields(review: Review, runner_rating: dict[str, Any] | None) -> dict[str, Any]:
    return {"review_id": review.id, "booking_id": review.booking_id,
            "booking_number": review.booking_number, "runner_id": review.runner_id,
            "reviewer_id": review.reviewer_id, "reviewee_id": review.reviewee_id,
            "reviewer_role": review.reviewer_role, "rating": review.rating,
            "comment": review.comment, "tags": list(review.tags),
            "created_at": review.created_at, "runner_rating": runner_rating}


def created(review: Review, runner_rating: dict[str, Any] | None) -> ReviewCreated:
    return ReviewCreated(**_fields(review, runner_rating))


def hidden(review: Review, runner_rating: dict[str, Any] | None, hidden_at: datetime) -> ReviewHidden:
    return ReviewHidden(**_fields(review, runner_rating), reason=review.hidden_reason,
                        hidden_at=hidden_at)
