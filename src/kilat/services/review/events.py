"""Events the review service publishes (the runner service keeps ratings from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kilat.services.review.models import Review

REVIEW_CREATED = "review.created"
REVIEW_HIDDEN = "review.hidden"


def review_data(review: Review, runner_rating: dict[str, Any] | None) -> dict[str, Any]:
    """``runner_id`` is set when an owner reviewed the runner; ``runner_rating`` then holds the
    runner's average and count after this change, so a consumer can simply overwrite its copy."""
    data = {"review_id": str(review.id), "booking_id": str(review.booking_id),
            "booking_number": review.booking_number,
            "runner_id": str(review.runner_id) if review.runner_id else None,
            "reviewer_id": str(review.reviewer_id), "reviewee_id": str(review.reviewee_id),
            "reviewer_role": review.reviewer_role, "rating": review.rating,
            "comment": review.comment, "tags": list(review.tags),
            "created_at": review.created_at.isoformat()}
    if runner_rating is not None:
        data["runner_rating"] = runner_rating
    return data


def hidden_data(review: Review, runner_rating: dict[str, Any] | None,
                hidden_at: datetime) -> dict[str, Any]:
    return review_data(review, runner_rating) | {"reason": review.hidden_reason,
                                                 "hidden_at": hidden_at.isoformat()}
